#!/usr/bin/env python3
"""The studio page in headless Chromium, driven over WebDriver HTTP (chromedriver), standard library only.

Loads the page, generates (checks the live x̂₀ preview and the final image), moves the noise
slider, paints an inpainting mask, opens Inside and History, and saves screenshots to --out.
Exits non-zero, loudly, when Chromium or chromedriver is missing or any check fails.
"""
import argparse, base64, json, os, shutil, socket, subprocess, sys, time, urllib.request

ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'


def fail(message):
    print('browser test FAILED: ' + message, file=sys.stderr)
    sys.exit(1)


class WebDriver:
    def __init__(self, port):
        self.base = 'http://127.0.0.1:%d' % port
        self.session = None

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={'Content-Type': 'application/json'})
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return json.loads(response.read() or b'{}').get('value')
        except urllib.error.HTTPError as error:
            fail('%s %s: %s' % (method, path, error.read().decode(errors='replace')[:500]))

    def start(self, chromium):
        args = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1100,900',
                '--force-device-scale-factor=1']
        caps = {'capabilities': {'alwaysMatch': {'browserName': 'chrome', 'goog:chromeOptions': {'binary': chromium, 'args': args}}}}
        self.session = self.call('POST', '/session', caps)['sessionId']

    def s(self, path):
        return '/session/%s%s' % (self.session, path)

    def get(self, url):
        self.call('POST', self.s('/url'), {'url': url})

    def find(self, css):
        return self.call('POST', self.s('/element'), {'using': 'css selector', 'value': css})[ELEMENT]

    def click(self, css):
        self.call('POST', self.s('/element/%s/click' % self.find(css)), {})

    def type(self, css, text):
        element = self.find(css)
        self.call('POST', self.s('/element/%s/clear' % element), {})
        self.call('POST', self.s('/element/%s/value' % element), {'text': text})

    def js(self, script, *args):
        return self.call('POST', self.s('/execute/sync'), {'script': script, 'args': list(args)})

    def wait(self, script, what, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.js(script)
            if value:
                return value
            time.sleep(0.05)
        fail('timed out waiting for ' + what)

    def screenshot(self, css, path):
        data = self.call('GET', self.s('/element/%s/screenshot' % self.find(css)))
        with open(path, 'wb') as f:
            f.write(base64.b64decode(data))
        print('screenshot', path)

    def quit(self):
        if self.session:
            try:
                self.call('DELETE', self.s(''))
            except SystemExit:
                pass


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--url', required=True)
    parser.add_argument('--out', required=True)
    options = parser.parse_args()
    os.makedirs(options.out, exist_ok=True)
    chromium = shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
    chromedriver = shutil.which('chromedriver')
    if not chromium or not chromedriver:
        fail('Chromium (%s) and chromedriver (%s) are required: run scripts/setup.sh (Debian packages chromium, chromium-driver)'
             % (chromium, chromedriver))
    port = free_port()
    driver_process = subprocess.Popen([chromedriver, '--port=%d' % port], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    driver = WebDriver(port)
    try:
        deadline = time.time() + 30
        while True:
            try:
                with urllib.request.urlopen(driver.base + '/status', timeout=2) as r:
                    if json.loads(r.read())['value'].get('ready'):
                        break
            except OSError:
                pass
            if time.time() > deadline:
                fail('chromedriver did not start')
            time.sleep(0.1)
        driver.start(chromium)
        run(driver, options)
    finally:
        driver.quit()
        driver_process.terminate()
        driver_process.wait(timeout=10)


def run(d, options):
    out = lambda name: os.path.join(options.out, name)
    d.get(options.url)
    d.wait("return document.querySelector('#model-info').textContent.startsWith('model ')", 'the model info')
    d.wait("return document.querySelector('#sampler').options.length > 1", 'the sampler list')

    # Generate: the final image, after one decoded x̂₀ per step streamed into the strip.
    d.type('#prompt', 'red apple')
    d.type('#seed', '3')
    d.type('#steps', '20')
    d.click('#generate')
    d.wait("const i = document.querySelector('#results img'); return i && i.complete && i.naturalWidth > 0", 'the final image')
    steps = d.js("return document.querySelectorAll('#strip img').length")
    if steps != 20:
        fail('expected 20 step previews, saw %s' % steps)
    print('final image shown after', steps, 'step previews')
    d.screenshot('#tab-generate', out('generate.png'))

    # A longer job: the live preview seen mid-run, then cancelled from the page.
    d.type('#steps', '60')
    d.click('#generate')
    live = d.wait("""const t = document.querySelector('#generate-run .status-text').textContent;
        const m = t.match(/step (\\d+) \\/ (\\d+)/);
        return m && Number(m[1]) < Number(m[2]) && document.querySelector('#preview').src.startsWith('data:image/png')
            && document.querySelectorAll('#strip img').length > 0 ? t : null""", 'a live preview mid-run')
    print('live preview seen at', live)
    d.click('#generate-cancel')
    d.wait("return document.querySelector('#generate-run .status-text').textContent === 'cancelled'", 'the cancelled state')
    print('cancel works from the page')

    # Noise: pick the generated image, noise it, move the slider.
    d.click('#tabs button[data-tab=history]')
    d.wait("return document.querySelectorAll('#history .card').length > 0", 'the history cards')
    d.screenshot('#tab-history', out('history.png'))
    d.click('#tabs button[data-tab=noise]')
    d.js("const p = document.querySelector('#noise-pick'); p.selectedIndex = 1; p.dispatchEvent(new Event('change'));")
    d.click('#noise-compute')
    d.wait("return !document.querySelector('#noise-slider').disabled", 'the noise ladder')
    before = d.js("return document.querySelector('#noise-latent').src")
    d.js("""const s = document.querySelector('#noise-slider'); s.value = Math.round(s.max / 2);
            s.dispatchEvent(new Event('input'));""")
    t, scale, after = d.js("""return [document.querySelector('#noise-t').textContent, document.querySelector('#noise-scale').textContent,
                                      document.querySelector('#noise-latent').src]""")
    if t == '0' or after == before or not after.startswith('data:image/png'):
        fail('the noise slider did not change the view (t=%s)' % t)
    print('noise slider at t =', t, 'sqrt(alpha_bar) =', scale)
    d.click('#denoise')
    d.wait("return document.querySelectorAll('#denoise-run .results img').length > 0", 'the denoised image')
    d.screenshot('#tab-noise', out('noise.png'))

    # Img2img / inpaint: pick an image, paint a stroke, run.
    d.click('#tabs button[data-tab=edit]')
    d.js("const p = document.querySelector('#edit-pick'); p.selectedIndex = 1; p.dispatchEvent(new Event('change'));")
    d.js("""const c = document.querySelector('#edit-canvas'), r = c.getBoundingClientRect();
            const at = (type, x, y) => c.dispatchEvent(new PointerEvent(type, {clientX: r.left + x, clientY: r.top + y, bubbles: true}));
            at('pointerdown', 40, 40); for (let x = 40; x < 200; x += 10) at('pointermove', x, 60 + x / 4); window.dispatchEvent(new PointerEvent('pointerup'));""")
    d.click('#edit-run')
    d.wait("return document.querySelectorAll('#edit-run-view .results img').length > 0", 'the inpainted image', timeout=180)
    d.screenshot('#tab-edit', out('edit.png'))

    # Inside: trajectory and attention maps.
    d.click('#tabs button[data-tab=generate]')
    d.type('#steps', '10')
    d.click('#tabs button[data-tab=inside]')
    d.click('#inside-run')
    d.wait("const i = document.querySelector('#inside-attention'); return i && i.complete && i.naturalWidth > 0", 'the attention maps')
    d.screenshot('#tab-inside', out('inside.png'))
    print('browser test passed')


if __name__ == '__main__':
    main()
