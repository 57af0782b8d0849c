// The Diffuse studio page's behaviour: jobs with live progress over server-sent events, the
// noise slider, the mask painter, the Inside views and the history. Plain JS, no libraries.
'use strict';
const $ = (s, root = document) => root.querySelector(s);
const png = b64 => 'data:image/png;base64,' + b64;
let info = null;
let lastSettings = null;

async function api(path, body) {
  const options = body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  const response = await fetch(path, options);
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((json.error && json.error.message) || response.statusText);
  return json;
}

// --- tabs ---
for (const button of document.querySelectorAll('#tabs button')) {
  button.addEventListener('click', () => showTab(button.dataset.tab));
}
function showTab(name) {
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === name);
  for (const s of document.querySelectorAll('.tab')) s.classList.toggle('active', s.id === 'tab-' + name);
  if (name === 'history') loadHistory();
}

// --- one job, shown live in a .run view: progress, x̂₀ of every step, results ---
function runJob(body, view, { onDone, cancelButton } = {}) {
  const bar = $('progress', view), text = $('.status-text', view);
  const live = $('#preview', view) || $('.live-preview', view), strip = $('.strip', view), results = $('.results', view);
  bar.value = 0; text.textContent = 'submitting…'; text.classList.remove('error');
  if (strip) strip.innerHTML = '';
  if (results) results.innerHTML = '';
  return api('/api/jobs', body).then(job => new Promise(resolve => {
    if (cancelButton) { cancelButton.disabled = false; cancelButton.onclick = () => api('/api/jobs/' + job.id + '/cancel', {}).catch(() => {}); }
    const events = new EventSource('/api/jobs/' + job.id + '/events');
    events.onmessage = message => {
      const s = JSON.parse(message.data);
      bar.value = s.steps ? s.step / s.steps : 0;
      if (s.state === 'queued') text.textContent = 'queued, position ' + s.position;
      else if (s.state === 'running') text.textContent = 'step ' + s.step + ' / ' + s.steps + (s.t !== undefined ? '  (t = ' + Math.round(s.t) + ')' : '');
      (s.previews || []).forEach((b64, i) => {
        if (live) live.src = png(b64);
        if (strip) {
          const figure = document.createElement('figure');
          figure.innerHTML = '<img alt=""><figcaption>' + (s.previews_from + i + 1) + '</figcaption>';
          figure.firstChild.src = png(b64);
          strip.appendChild(figure);
        }
      });
      if (['done', 'failed', 'cancelled'].includes(s.state)) {
        events.close();
        if (cancelButton) cancelButton.disabled = true;
        text.textContent = s.state === 'done' ? 'done' : s.state === 'cancelled' ? 'cancelled' : 'failed: ' + s.error.message;
        if (s.state === 'failed') text.classList.add('error');
        if (results) for (const image of s.images || []) {
          const a = document.createElement('a');
          a.href = image.url; a.target = '_blank';
          a.innerHTML = '<img class="result" alt="">';
          a.firstChild.src = image.url; a.firstChild.title = image.name;
          results.appendChild(a);
        }
        if (onDone) onDone(s);
        resolve(s);
      }
    };
    events.onerror = () => { if (events.readyState === EventSource.CLOSED) resolve(null); };
  })).catch(error => { text.textContent = error.message; text.classList.add('error'); if (cancelButton) cancelButton.disabled = true; });
}

// --- Generate ---
function generateSettings() {
  const f = $('#generate-form');
  const number = name => f[name].value === '' ? undefined : Number(f[name].value);
  return { mode: 'txt2img', prompt: f.prompt.value, negative_prompt: f.negative_prompt.value, seed: number('seed'),
           steps: number('steps'), guidance: number('guidance'), sampler: f.sampler.value || undefined,
           width: number('width'), height: number('height'), count: number('count') };
}
$('#generate-form').addEventListener('submit', event => {
  event.preventDefault();
  lastSettings = generateSettings();
  runJob(lastSettings, $('#generate-run'), { cancelButton: $('#generate-cancel') });
});

// --- an input image: upload or pick from history ---
function fileToDataURL(file) {
  return new Promise((resolve, reject) => { const r = new FileReader(); r.onload = () => resolve(r.result); r.onerror = reject; r.readAsDataURL(file); });
}
async function urlToDataURL(url) { return fileToDataURL(await (await fetch(url)).blob()); }
function inputImage(fileInput, pick) {
  if (fileInput.files[0]) return fileToDataURL(fileInput.files[0]);
  if (pick.value) return urlToDataURL(pick.value);
  return Promise.reject(new Error('upload a photo or pick one from History'));
}

// --- Noise: a ladder of x_t, a slider over t, denoise from the chosen t ---
let noiseFrames = [], noiseImage = null;
$('#noise-compute').addEventListener('click', async () => {
  const view = $('#denoise-run');
  try { noiseImage = await inputImage($('#noise-file'), $('#noise-pick')); } catch (e) { $('.status-text', view).textContent = e.message; return; }
  const done = await runJob({ mode: 'noise', image: noiseImage, seed: 0 }, view);
  if (!done || done.state !== 'done') return;
  noiseFrames = done.frames;
  const slider = $('#noise-slider');
  slider.max = noiseFrames.length - 1; slider.value = 0; slider.disabled = false;
  $('#denoise').disabled = false;
  showNoise();
});
function showNoise() {
  const frame = noiseFrames[Number($('#noise-slider').value)];
  if (!frame) return;
  $('#noise-t').textContent = frame.t;
  $('#noise-scale').textContent = frame.signal_scale.toFixed(3);
  $('#noise-latent').src = png(frame.latent);
  $('#noise-pixel').src = png(frame.pixel);
}
$('#noise-slider').addEventListener('input', showNoise);
$('#denoise').addEventListener('click', () => {
  const frame = noiseFrames[Number($('#noise-slider').value)];
  if (!frame || !noiseImage) return;
  runJob({ mode: 'denoise', image: noiseImage, t: frame.t, prompt: $('#denoise-prompt').value,
           steps: Number($('#denoise-steps').value) || 10, seed: 0 }, $('#denoise-run'));
});

// --- Img2img / inpaint: the image on a canvas, a mask painted over it ---
const canvas = $('#edit-canvas'), context = canvas.getContext('2d');
const mask = document.createElement('canvas'); mask.width = canvas.width; mask.height = canvas.height;
const maskContext = mask.getContext('2d');
let editImage = null, editDataURL = null, painted = false;
function drawEditor() {
  context.imageSmoothingEnabled = false;
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (editImage) context.drawImage(editImage, 0, 0, canvas.width, canvas.height);
  context.globalAlpha = 0.55; context.drawImage(mask, 0, 0); context.globalAlpha = 1;
}
async function loadEditImage() {
  try { editDataURL = await inputImage($('#edit-file'), $('#edit-pick')); } catch (e) { return; }
  editImage = new Image();
  editImage.onload = drawEditor;
  editImage.src = editDataURL;
}
$('#edit-file').addEventListener('change', loadEditImage);
$('#edit-pick').addEventListener('change', () => { $('#edit-file').value = ''; loadEditImage(); });
let drawing = false;
function paint(event) {
  const r = canvas.getBoundingClientRect();
  maskContext.fillStyle = '#fff';
  maskContext.beginPath();
  maskContext.arc((event.clientX - r.left) * canvas.width / r.width, (event.clientY - r.top) * canvas.height / r.height,
                  Number($('#edit-brush').value), 0, 2 * Math.PI);
  maskContext.fill();
  painted = true;
  drawEditor();
}
canvas.addEventListener('pointerdown', e => { drawing = true; paint(e); });
canvas.addEventListener('pointermove', e => { if (drawing) paint(e); });
window.addEventListener('pointerup', () => { drawing = false; });
$('#edit-clear').addEventListener('click', () => { maskContext.clearRect(0, 0, mask.width, mask.height); painted = false; drawEditor(); });
$('#edit-strength').addEventListener('input', e => { $('#edit-strength-value').textContent = Number(e.target.value).toFixed(2); });
$('#edit-run').addEventListener('click', () => {
  const view = $('#edit-run-view');
  if (!editDataURL) { $('.status-text', view).textContent = 'upload an image or pick one from History'; return; }
  // The mask goes as an opaque PNG: black keeps, white repaints.
  let maskURL;
  if (painted) {
    const flat = document.createElement('canvas'); flat.width = mask.width; flat.height = mask.height;
    const c = flat.getContext('2d'); c.fillStyle = '#000'; c.fillRect(0, 0, flat.width, flat.height); c.drawImage(mask, 0, 0);
    maskURL = flat.toDataURL('image/png');
  }
  runJob({ mode: painted ? 'inpaint' : 'img2img', image: editDataURL, mask: maskURL, prompt: $('#edit-prompt').value,
           strength: Number($('#edit-strength').value), seed: Number($('#edit-seed').value) }, view, { cancelButton: $('#edit-cancel') });
});

// --- Inside: trajectory and per-word attention of a finished image ---
function lookInside(settings) {
  showTab('inside');
  const out = $('#inside-out');
  out.innerHTML = '';
  runJob(Object.assign({}, settings, { mode: 'inside', count: 1 }), $('#inside-run-view'), { onDone: s => {
    if (s.state !== 'done') return;
    out.innerHTML = '<h3>Image</h3><img id="inside-image"><h3>x̂₀ after every step</h3><img id="inside-trajectory">' +
      '<h3>Where each word looked</h3><img id="inside-attention">';
    $('#inside-image').src = png(s.image);
    $('#inside-trajectory').src = png(s.trajectory);
    $('#inside-attention').src = png(s.attention);
  } });
}
$('#inside-run').addEventListener('click', () => lookInside(generateSettings()));

// --- History: every image with the settings in its PNG text chunks ---
function settingsFromChunks(p) {
  const number = v => (v === undefined || v === '' ? undefined : Number(v));
  const size = (p.size || '').split('x').map(Number);
  const sampler = p.scheduler && p.scheduler !== "the model's own" ? p.scheduler : undefined;
  return { mode: 'txt2img', prompt: p.prompt || '', negative_prompt: p.negative_prompt || '', seed: number(p.seed),
           steps: number(p.steps), guidance: number(p.guidance), sampler, width: size[0] || undefined, height: size[1] || undefined, count: 1 };
}
function fillGenerate(s) {
  const f = $('#generate-form');
  for (const key of ['prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'sampler', 'width', 'height', 'count']) {
    if (f[key]) f[key].value = s[key] === undefined ? '' : s[key];
  }
}
async function loadHistory() {
  const list = $('#history');
  let data;
  try { data = await api('/api/history'); } catch (e) { list.textContent = e.message; return; }
  list.innerHTML = '';
  for (const pick of document.querySelectorAll('.pick')) {
    const keep = pick.value;
    pick.length = 1;
    for (const image of data.images) pick.add(new Option(image.name + ' — ' + (image.parameters.prompt || ''), image.url));
    pick.value = keep;
  }
  for (const image of data.images) {
    const p = image.parameters, card = document.createElement('div');
    card.className = 'card';
    card.innerHTML = '<a target="_blank"><img alt=""></a><dl></dl><div class="buttons"><button class="rerun">Re-run</button><button class="inside">Inside</button></div>';
    card.querySelector('a').href = image.url;
    card.querySelector('img').src = image.url;
    const dl = card.querySelector('dl');
    for (const key of ['prompt', 'negative_prompt', 'seed', 'steps', 'guidance', 'scheduler', 'size', 'mode', 'strength', 'model']) {
      if (p[key] === undefined || p[key] === '') continue;
      const dt = document.createElement('dt'), dd = document.createElement('dd');
      dt.textContent = key; dd.textContent = p[key];
      dl.append(dt, dd);
    }
    const settings = settingsFromChunks(p);
    card.querySelector('.rerun').addEventListener('click', () => {
      fillGenerate(settings); showTab('generate');
      lastSettings = generateSettings();
      runJob(lastSettings, $('#generate-run'), { cancelButton: $('#generate-cancel') });
    });
    card.querySelector('.inside').addEventListener('click', () => lookInside(settings));
    card.querySelector('.inside').disabled = p.mode !== undefined && p.mode !== 'txt2img';
    list.appendChild(card);
  }
}
$('#history-refresh').addEventListener('click', loadHistory);

// --- start: model facts, defaults in the form, queue status ---
(async () => {
  try {
    info = await api('/api/info');
    $('#model-info').textContent = 'model ' + info.model + ' · ' + info.native_size + '×' + info.native_size + ' px';
    const f = $('#generate-form');
    f.steps.placeholder = info.default_steps; f.guidance.placeholder = info.default_guidance;
    f.width.placeholder = f.height.placeholder = info.native_size;
    f.width.step = f.height.step = info.size_multiple;
    for (const name of info.samplers) f.sampler.add(new Option(name, name));
  } catch (e) { $('#model-info').textContent = 'server unreachable: ' + e.message; }
  loadHistory();
  setInterval(async () => {
    try { const s = await api('/api/status'); $('#queue-info').textContent = 'queue: ' + s.running + ' running, ' + s.waiting + ' waiting'; } catch (e) {}
  }, 2000);
})();
