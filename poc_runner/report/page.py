"""The shell every HTML page of poc-runner shares (report.html, the side-by-side comparison):
one self-contained file, because it is emailed, opened offline and printed to PDF. Everything is
inline (CSS, SVG; no fonts, images or scripts from anywhere) and its Content-Security-Policy
forbids every request, so even a value that slipped past escaping could not fetch anything.
Its one script, allowed by its hash, unfolds the evidence before printing.
"""

from __future__ import annotations

import base64
import hashlib
import html

from poc_runner.report.common import clean

# Opens every <details> before printing, for browsers whose print CSS cannot (see CSS).
PRINT_SCRIPT = (
    'addEventListener("beforeprint",function(){document.querySelectorAll("details")'
    '.forEach(function(d){if(!d.open){d.open=true;d.dataset.printed="1"}})});'
    'addEventListener("afterprint",function(){document.querySelectorAll("details[data-printed]")'
    ".forEach(function(d){d.open=false;delete d.dataset.printed})});"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(PRINT_SCRIPT.encode()).digest()).decode()
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)

CSS = """
:root{--pass:#1a7f37;--pass-bg:#e8f5ec;--fail:#c62828;--fail-bg:#fdecec;--error:#8a5a00;
--error-bg:#fff4d6;--close:#b35900;--close-bg:#fff1e0;--ink:#1f2328;--muted:#59636e;
--line:#d8dee4;--soft:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:960px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:1.7rem;line-height:1.25;margin:.2rem 0 1rem;overflow-wrap:anywhere}
h2{font-size:1.3rem;margin:2.2rem 0 .8rem;padding-bottom:.3rem;border-bottom:2px solid var(--line);
break-after:avoid}
h3{font-size:1.1rem;margin:0;break-after:avoid}
code,pre{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;
font-size:.85em}
.eyebrow{color:var(--muted);margin:0;text-transform:uppercase;letter-spacing:.06em;font-size:.8rem}
.hero{border:3px solid var(--c);background:var(--bg);border-radius:14px;padding:22px 26px;
display:flex;flex-wrap:wrap;gap:20px 40px;align-items:center;justify-content:space-between;
break-inside:avoid}
.v-pass{--c:var(--pass);--bg:var(--pass-bg)}.v-fail{--c:var(--fail);--bg:var(--fail-bg)}
.v-error{--c:var(--error);--bg:var(--error-bg)}
.verdict{display:inline-block;font-size:3rem;font-weight:800;line-height:1;color:var(--c);
border:4px solid var(--c);border-radius:12px;padding:8px 22px;letter-spacing:.08em;background:#fff}
.headline{font-size:1.35rem;font-weight:700;margin:.8rem 0 .2rem;color:var(--c)}
.hero-main{flex:1 1 340px}
.executive{font-size:1.08rem;margin:1.2rem 0 0;padding:14px 18px;border-radius:10px;
background:var(--soft);border:1px solid var(--line);break-inside:avoid}
.executive h2{font-size:.8rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);
margin:0 0 .3rem;padding:0;border:0}
.executive p{margin:0}
.score{flex:0 0 auto;text-align:right}
.score-value{font-size:3.4rem;font-weight:800;line-height:1;color:var(--c)}
.score-value small{font-size:1.2rem;color:var(--muted);font-weight:600}
.score-needs{margin:.2rem 0 .4rem;color:var(--muted)}
.scorebar .track{fill:#fff;stroke:var(--line)}.scorebar .fill{fill:var(--c)}
.scorebar .mark{stroke:var(--ink);stroke-width:2}.scorebar text{font-size:11px;fill:var(--muted)}
.alert{border-left:6px solid var(--error);background:var(--error-bg);padding:12px 16px;
margin:20px 0;border-radius:6px;break-inside:avoid}
.alert pre{white-space:pre-wrap;word-break:break-word;margin:.4rem 0 0}
.job blockquote{font-size:1.2rem;margin:0 0 1rem;padding:.2rem 0 .2rem 1rem;
border-left:4px solid var(--line)}
.job p{margin:.3rem 0}
.label{font-weight:700}
.stakeholder{margin:0 0 1.6rem}
.stakeholder-head{display:flex;justify-content:space-between;gap:12px;align-items:baseline;
flex-wrap:wrap;break-after:avoid}
.wants{margin:.2rem 0 .7rem;color:var(--muted);font-style:italic}
.tally{font-weight:600;color:var(--muted)}
.criteria{list-style:none;margin:0;padding:0}
.criterion{border:1px solid var(--line);border-left:6px solid var(--c);border-radius:8px;
padding:12px 16px;margin:0 0 10px;break-inside:avoid;page-break-inside:avoid}
.c-met{--c:var(--pass)}.c-not-met{--c:var(--fail)}.c-not-judged{--c:var(--muted)}
.c-close{--c:var(--close);background:var(--close-bg)}
.rows{margin:.6rem 0 0;overflow-x:auto}
.rows-caption{margin:0 0 .2rem;font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;
color:var(--muted)}
.rows table{font-size:.8rem;margin:0;background:#fff}.rows th,.rows td{padding:3px 6px}
.rows td{font-family:ui-monospace,"SFMono-Regular",Menlo,Consolas,"DejaVu Sans Mono",monospace;
white-space:pre-wrap}
.severity{display:inline-block;border:1.5px solid currentColor;border-radius:999px;padding:0 8px;
font-size:.75rem;font-weight:700;white-space:nowrap}
.s-deal{color:var(--fail)}.s-challenge{color:var(--close)}.s-nice{color:var(--muted)}
.close-tag{font-size:.75rem;font-weight:700;color:var(--close)}
.gaps table{font-size:.9rem}.gaps th{overflow-wrap:normal;white-space:nowrap}
.gaps td{overflow-wrap:break-word}
.c-head{display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
.mark{font-weight:800;color:var(--c);white-space:nowrap}
.c-title{font-weight:700;overflow-wrap:anywhere}
.must{font-size:.75rem;font-weight:700;text-transform:uppercase;letter-spacing:.05em;
border:1.5px solid var(--ink);border-radius:999px;padding:0 8px;white-space:nowrap}
.c-meta{color:var(--muted);font-size:.85rem;margin:.1rem 0 .5rem}
.figures{display:flex;flex-wrap:wrap;gap:8px 28px;margin:0}
.figures div{min-width:8rem}
.figures dt{font-size:.75rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.figures dd{margin:0;font-weight:600;word-break:break-word}
.gain{margin:.5rem 0 0;font-weight:700;color:var(--pass)}
.gain.worse{color:var(--fail)}
details{margin-top:.6rem}
summary{cursor:pointer;color:var(--muted);font-size:.9rem}
details pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px;
white-space:pre-wrap;word-break:break-word;margin:.4rem 0 0;max-height:24rem;overflow:auto}
.timeline{width:100%;height:auto}
.timeline text{font-size:12px;fill:var(--ink)}.timeline .axis text{fill:var(--muted);font-size:11px}
.timeline .grid{stroke:var(--line)}.timeline .dur{fill:var(--muted);font-size:11px}
.b-phase{fill:#8c959f}.b-service{fill:#4a7fd4}.b-pass{fill:var(--pass)}.b-fail{fill:var(--fail)}
.b-timeout{fill:#d4a72c}
.legend{display:flex;flex-wrap:wrap;gap:6px 18px;font-size:.85rem;color:var(--muted);margin:.4rem 0}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;
vertical-align:-1px}
.legend .b-phase{background:#8c959f}.legend .b-service{background:#4a7fd4}
.legend .b-pass{background:var(--pass)}.legend .b-fail{background:var(--fail)}
.legend .b-timeout{background:#d4a72c}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.92rem}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
.kv th{width:30%}
th{font-size:.78rem;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
th code.name{text-transform:none;letter-spacing:0;font-size:.9rem;color:var(--ink)}
tr{break-inside:avoid}
td code{word-break:break-all}
.ok{color:var(--pass);font-weight:600}.bad{color:var(--fail);font-weight:600}
.muted{color:var(--muted)}
.differs{font-size:1.1rem;margin:0 0 1rem}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:16px;break-inside:avoid}
.side{border:3px solid var(--c);background:var(--bg);border-radius:12px;padding:14px 18px}
.side .verdict{font-size:2rem;padding:4px 14px}
.side .headline{font-size:1.1rem;margin:.5rem 0 .1rem}
.side-label{margin:0 0 .4rem;font-weight:800;text-transform:uppercase;letter-spacing:.06em}
.side-score{margin:.2rem 0}.side-score strong{font-size:1.6rem;color:var(--c)}
.side p.muted{margin:.3rem 0 0;font-size:.85rem}
tr.changed>*{background:#fff8c5}
footer{margin-top:3rem;color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);
padding-top:.6rem}
@media print{
@page{margin:14mm 13mm}
body{font-size:10pt;line-height:1.4;background:#fff}
main{max-width:none;padding:0}
.summary-page{break-inside:avoid;page-break-inside:avoid}
h2{margin:1.2rem 0 .5rem}
.hero{padding:14px 20px}
.verdict{font-size:2.4rem}.score-value{font-size:2.8rem}
.criterion{padding:8px 12px;margin:0 0 8px}
.c-close{background:#fff !important}
.figures{gap:4px 24px}
details{margin-top:.3rem}
details pre{font-size:7.5pt;padding:6px}
.stakeholder{margin:0 0 1rem}
.stakeholder-head,.wants{break-after:avoid;page-break-after:avoid}
.rows{overflow:visible}
.rows table,tr{break-inside:avoid}
table{font-size:8.5pt;margin:.2rem 0 .6rem}th,td{padding:3px 6px}
.kv th{font-size:7pt}td code{font-size:7.5pt}
h3{font-size:1rem}
.timeline{max-height:90mm}
.hero,.alert,.verdict{background:#fff !important}
.hero-main{flex-basis:220px}
details::details-content{content-visibility:visible;display:block;block-size:auto}
details>summary{list-style:none;color:var(--ink);font-weight:600}
details>summary::-webkit-details-marker{display:none}
details pre{max-height:none;overflow:visible;background:#fff}
.criterion,.hero,.alert,figure{break-inside:avoid;page-break-inside:avoid}
h2,h3,.stakeholder-head{break-after:avoid;page-break-after:avoid}
a{color:inherit;text-decoration:none}
}
"""


def e(value: object) -> str:
    """Escaped for HTML text and attributes, after masking (see report.common)."""
    return html.escape(clean(value), quote=True)


def page(title: str, body: str) -> str:
    """A whole page: `title` is text (escaped here), `body` is HTML already escaped."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{e(title)}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"<script>{PRINT_SCRIPT}</script>\n</body>\n</html>\n"
    )
