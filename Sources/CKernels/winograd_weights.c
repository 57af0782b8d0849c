// Winograd F(4x4, 3x3) weight transform straight into oneDNN's blocked weights layout.
// oneDNN's own reorder to this layout runs about 35 ms per million weights (2.8 s of the SD
// 1.5 U-Net's 10 s forward when its convolutions take the Winograd path); this one is a
// streaming pass over the weights, parallel over input channels.
#include "winograd_weights.h"
#include "dk_math.h"

#define ALPHA 6
#define MAX_OC_BLOCK 64

// oneDNN's G for F(4x4, 3x3) (its interpolation points and scaling), so the transformed
// weights are exactly what its kernels expect: U = G g G^T.
static const float G[ALPHA][3] = {
    {1.13777777777778f, 0.f, 0.f},
    {-0.688403361344538f, -0.430252100840336f, -0.26890756302521f},
    {-0.688403361344538f, 0.430252100840336f, -0.26890756302521f},
    {0.119514472455649f, 0.179271708683473f, 0.26890756302521f},
    {0.119514472455649f, -0.179271708683473f, 0.26890756302521f},
    {0.f, 0.f, 1.f},
};

typedef struct {
    const float *w;          // [K, C, 3, 3]
    float *out;              // OBaaIBOIio
    const dnnl_wino_desc_t *d;
    int64_t K, C;
} wino_ctx;

// One work item: input channel `ic` (padded) and one block of oc_block output channels.
DK_HOT static void transform_body(void *p, int64_t begin, int64_t end) {
    const wino_ctx *c = p;
    const dnnl_wino_desc_t *d = c->d;
    const int64_t ocb = d->oc_block, icb = d->ic_block, ic2 = d->ic2_block, oc2 = d->oc2_block;
    const int64_t nb_oc = d->oc / ocb, ic_chunks = d->ic / (icb * ic2);
    float g[9][MAX_OC_BLOCK], t[3][ALPHA][MAX_OC_BLOCK], u[MAX_OC_BLOCK];
    for (int64_t item = begin; item < end; item++) {
        const int64_t ic = item / nb_oc, block = item % nb_oc;
        // g[tap][o] = w[block * ocb + o, ic, tap], zero in padding.
        for (int64_t o = 0; o < ocb; o++) {
            const int64_t oc = block * ocb + o;
            const float *src = c->w + (oc * c->C + ic) * 9;
            const int inside = oc < c->K && ic < c->C;
            for (int tap = 0; tap < 9; tap++) g[tap][o] = inside ? src[tap] : 0.0f;
        }
        // t[kh][j] = sum_kw g[kh][kw] G[j][kw]
        for (int kh = 0; kh < 3; kh++)
            for (int j = 0; j < ALPHA; j++)
                for (int64_t o = 0; o < ocb; o++)
                    t[kh][j][o] = g[kh * 3][o] * G[j][0] + g[kh * 3 + 1][o] * G[j][1] + g[kh * 3 + 2][o] * G[j][2];
        const int64_t occ = block / oc2, ob = block % oc2;
        const int64_t icc = ic / (icb * ic2), ib = (ic / icb) % ic2, ii = ic % icb;
        for (int i = 0; i < ALPHA; i++)
            for (int j = 0; j < ALPHA; j++) {
                // u[i][j] = sum_kh G[i][kh] t[kh][j]
                for (int64_t o = 0; o < ocb; o++)
                    u[o] = G[i][0] * t[0][j][o] + G[i][1] * t[1][j][o] + G[i][2] * t[2][j][o];
                int64_t at = ((((((occ * ALPHA + i) * ALPHA + j) * ic_chunks + icc) * oc2 + ob) * ic2 + ib) * icb + ii) * ocb;
                memcpy(c->out + at, u, (size_t)ocb * sizeof(float));
            }
    }
}

int dk_wino_transform_supported(const dnnl_wino_desc_t *d) {
    return d->wino_format == dnnl_wino_wei_OBaaIBOIio && d->r == 3 && d->alpha == ALPHA && d->oc_block > 0 &&
           d->oc_block <= MAX_OC_BLOCK && d->ic_block > 0 && d->ic2_block > 0 && d->oc2_block > 0 &&
           d->oc % (d->oc_block * d->oc2_block) == 0 && d->ic % (d->ic_block * d->ic2_block) == 0;
}

int dk_wino_transform_weights(const float *w, float *out, const dnnl_wino_desc_t *d, int64_t K, int64_t C) {
    if (!dk_wino_transform_supported(d) || d->oc < K || d->ic < C) return -1;
    wino_ctx c = {w, out, d, K, C};
    dk_parallel_for((int64_t)d->ic * (d->oc / d->oc_block), 64, &c, transform_body);
    return 0;
}
