/**
 * @module A plain page the edge serves until the web app is built: the regions and the
 * state each reports, kept live by their event streams. All text goes through
 * textContent, never markup.
 */
export const PLACEHOLDER_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>mraa</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse}td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}</style>
</head><body>
<h1>mraa: multi-region application</h1>
<p>The web app is not built yet (<code>npm run build:web</code>). The routing layer, live:</p>
<table><thead><tr><th>Region</th><th>Role</th><th>URL</th><th>State</th><th>Writer</th><th>Epoch</th></tr></thead><tbody id="rows"></tbody></table>
<script>
(async () => {
  const cfg = await (await fetch('/config.json')).json();
  const rows = document.getElementById('rows');
  for (const r of cfg.regions) {
    const tr = document.createElement('tr');
    const cells = [r.name, r.role, r.url, '…', '', ''].map((t) => { const td = document.createElement('td'); td.textContent = t; tr.appendChild(td); return td; });
    rows.appendChild(tr);
    const show = (s) => { cells[3].textContent = s.state; cells[4].textContent = s.activeRegion; cells[5].textContent = String(s.epoch); };
    const es = new EventSource(r.url + '/state/' + encodeURIComponent(cfg.appId) + '/events');
    es.addEventListener('state', (e) => show(JSON.parse(e.data)));
    es.onerror = () => { cells[3].textContent = 'unreachable'; };
  }
})();
</script>
</body></html>
`;
