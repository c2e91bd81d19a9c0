/// The viewer's stylesheet and script, compiled into the tool: the pages load
/// nothing from the network, and the tool serves them wherever it is copied.
enum Assets {
  /// The assets by the name they are served under (`/assets/NAME`); any
  /// other name is a 404.
  static let files: [String: (type: String, text: String)] = [
    "viewer.css": ("text/css; charset=utf-8", css),
    "viewer.js": ("text/javascript; charset=utf-8", javaScript),
  ]

  static let css = """
    :root { --ink: #1d2330; --muted: #5d6677; --line: #dde1e8; --accent: #2f5fb3;
      --stale: #b85c00; --stale-bg: #fdf0de; --add: #e6f4ea; --del: #fbe9eb; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
      color: var(--ink); background: #f7f8fa; }
    header { display: flex; align-items: center; gap: 1.5em; padding: .6em 1.5em;
      background: #1d2330; color: #fff; }
    header a { color: #cfd8ea; text-decoration: none; }
    header a.active, header a:hover { color: #fff; }
    header .brand { font-weight: 700; color: #fff; font-size: 1.1em; }
    header nav { display: flex; gap: 1em; }
    header .store { margin-left: auto; color: #9aa6bd; font-family: ui-monospace, monospace;
      font-size: .85em; }
    main { padding: 1em 1.5em 3em; max-width: 1400px; }
    h1 { font-size: 1.4em; margin: .4em 0 .2em; word-break: break-all; }
    h2 { font-size: 1.1em; margin: 1.6em 0 .5em; }
    a { color: var(--accent); }
    .muted { color: var(--muted); }
    code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
    table { border-collapse: collapse; background: #fff; border: 1px solid var(--line);
      width: 100%; }
    th, td { text-align: left; padding: .35em .7em; border-bottom: 1px solid var(--line);
      vertical-align: top; }
    th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
    table.sortable th { cursor: pointer; user-select: none; }
    table.sortable th[data-order="asc"]::after { content: " ▲"; }
    table.sortable th[data-order="desc"]::after { content: " ▼"; }
    td.number { text-align: right; font-variant-numeric: tabular-nums; }
    tr.stale td { background: var(--stale-bg); }
    .badge { display: inline-block; padding: 0 .45em; border-radius: .6em; font-size: .8em;
      background: #e3e8f2; color: var(--muted); }
    .badge.stale { background: var(--stale-bg); color: var(--stale); }
    .badge.current { background: #e1f2e6; color: #1f7a3a; }
    .cards { display: flex; flex-wrap: wrap; gap: .8em; margin: .8em 0; }
    .card { background: #fff; border: 1px solid var(--line); border-radius: 6px;
      padding: .6em 1em; min-width: 9em; }
    .card .value { font-size: 1.35em; font-weight: 600; }
    .card .label { color: var(--muted); font-size: .85em; }
    dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: .3em 1.2em;
      background: #fff; border: 1px solid var(--line); padding: .8em 1em; margin: 0; }
    dl.fields dt { color: var(--muted); }
    dl.fields dd { margin: 0; word-break: break-word; }
    .value-tree ul { list-style: none; margin: 0; padding-left: 1.2em; border-left: 1px dotted #c3c9d4; }
    .value-tree .key { color: #6b3fa0; }
    .value-tree .string { color: #a23b2a; white-space: pre-wrap; }
    .value-tree .number { color: #1c5fa8; }
    .summary { background: #fff; border: 1px solid var(--line); padding: .5em .8em; display: inline-block; }
    .filter { margin: .4em 0; padding: .3em .5em; width: 24em; max-width: 100%; }
    .pager { margin: .6em 0; }
    .graph { background: #fff; border: 1px solid var(--line); padding: 1em; overflow: auto; }
    .graph svg { max-width: 100%; height: auto; }
    .notice { background: #fff8e1; border: 1px solid #f0d98c; padding: .8em 1em; }
    .error { background: var(--del); border: 1px solid #e9b8bf; padding: .8em 1em; }
    .diff { background: #fff; border: 1px solid var(--line); margin: .6em 0 1.2em; }
    .diff h3 { font-size: 1em; margin: 0; padding: .4em .8em; background: #eef1f5; }
    .diff pre { margin: 0; padding: .3em 0; overflow-x: auto; }
    .diff .line { display: block; padding: 0 .8em; white-space: pre; }
    .diff .add { background: var(--add); }
    .diff .del { background: var(--del); }
    .diff .hunk { color: var(--muted); background: #f2f4f8; }
    .diff table.split { border: none; table-layout: fixed; }
    .diff table.split td { border: none; padding: 0 .6em; white-space: pre; overflow: hidden;
      font-family: ui-monospace, monospace; font-size: .9em; }
    .kw { color: #9b2393; font-weight: 600; }
    .str { color: #c41a16; }
    .com { color: #5d6c79; font-style: italic; }
    .num { color: #1c00cf; }
    .chart rect.hits { fill: #4f8f5b; }
    .chart rect.misses { fill: #c9743a; }
    .chart text { font-size: 10px; fill: var(--muted); }
    """

  static let javaScript = """
    // Sorting by a column, filtering rows, and the running page's refresh.
    "use strict";
    function cellValue(row, index) {
      const cell = row.children[index];
      if (!cell) return "";
      const marked = cell.querySelector("[data-sort]");
      const key = marked ? marked.getAttribute("data-sort") : null;
      if (key !== null) return isNaN(Number(key)) ? key : Number(key);
      return cell.textContent.trim();
    }
    document.addEventListener("DOMContentLoaded", () => {
      document.body.dataset.ready = "1";
      for (const table of document.querySelectorAll("table.sortable")) {
        table.querySelectorAll("th").forEach((header, index) => {
          header.addEventListener("click", () => {
            const order = header.getAttribute("data-order") === "asc" ? "desc" : "asc";
            table.querySelectorAll("th").forEach(th => th.removeAttribute("data-order"));
            header.setAttribute("data-order", order);
            const body = table.tBodies[0];
            const rows = Array.from(body.rows);
            rows.sort((a, b) => {
              const x = cellValue(a, index), y = cellValue(b, index);
              const result = x < y ? -1 : x > y ? 1 : 0;
              return order === "asc" ? result : -result;
            });
            rows.forEach(row => body.appendChild(row));
          });
        });
      }
      for (const input of document.querySelectorAll("input.filter")) {
        const table = document.getElementById(input.getAttribute("data-table"));
        input.addEventListener("input", () => {
          const text = input.value.toLowerCase();
          for (const row of table.tBodies[0].rows) {
            row.style.display = row.textContent.toLowerCase().includes(text) ? "" : "none";
          }
        });
      }
      const running = document.getElementById("running");
      if (running) {
        const refresh = async () => {
          try {
            const response = await fetch("/running?fragment=1", { cache: "no-store" });
            if (response.ok) running.innerHTML = await response.text();
          } catch (error) { /* the server stopped: keep the last rows */ }
        };
        setInterval(refresh, 2000);
      }
    });
    """
}
