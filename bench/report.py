"""Turn the raw runs into the markdown table and the chart of bench/results/.

Every figure is the median over the repetitions that succeeded; ratios compare medians of the
same scenario (the headline metric of the client over that of aiohttp on asyncio, and of wrk).
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import matrix

KEYS = ("rps", "mbps", "p50_ms", "p99_ms", "cpu_per_1k", "maxrss_mb")


def aggregate(rows: list[dict]) -> dict[str, dict[str, dict]]:
    """scenario -> client -> {metric medians..., "ok": n, "n": n, "error": first error or None}."""
    grouped: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        grouped[r["scenario"]][r["client"]].append(r)
    out: dict[str, dict[str, dict]] = {}
    for sc, clients in grouped.items():
        out[sc] = {}
        for name, runs in clients.items():
            good = [r for r in runs if "error" not in r]
            agg: dict = {"ok": len(good), "n": len(runs)}
            agg["error"] = next((r["error"] for r in runs if "error" in r), None)
            for k in KEYS:
                vals = [r[k] for r in good if r.get(k) is not None]
                agg[k] = statistics.median(vals) if vals else None
            out[sc][name] = agg
    return out


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a and b else None


def _fmt(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def _x(v: float | None) -> str:
    return "-" if v is None else f"{v:.2f}x"


def _table(sc: matrix.Scenario, agg: dict[str, dict]) -> list[str]:
    metric = sc.metric
    head = "req/s" if metric == "rps" else "MB/s"
    base = agg.get(matrix.BASELINE, {}).get(metric)
    ceil = agg.get(matrix.CEILING, {}).get(metric)
    lines = [
        f"| client | {head} | x aiohttp | x wrk | p50 ms | p99 ms | CPU s/1k req | "
        "max RSS MB | runs ok |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for name, a in agg.items():
        if a["ok"] == 0:
            err = (a["error"] or "error").replace("|", "/")[:120]
            lines.append(f"| {name} | error | | | | | | | 0/{a['n']}: {err} |")
            continue
        v = a[metric]
        lines.append(
            f"| {name} | {_fmt(v)} | {_x(_ratio(v, base))} | {_x(_ratio(v, ceil))} | "
            f"{_fmt(a['p50_ms'], 3)} | {_fmt(a['p99_ms'], 3)} | {_fmt(a['cpu_per_1k'], 3)} | "
            f"{_fmt(a['maxrss_mb'])} | {a['ok']}/{a['n']} |"
        )
    return lines


def _get(agg, sc: str, client: str, metric: str) -> float | None:
    return agg.get(sc, {}).get(client, {}).get(metric)


# (description, scenario, client, metric, reference client, wanted ratio, higher is better)
TARGETS = [
    ("simple >= 1.2x aiohttp, 10 in flight", "get_c10", "squall simple", "rps", "aiohttp", 1.2, 1),
    (
        "simple >= 1.2x aiohttp, 100 in flight",
        "get_c100",
        "squall simple",
        "rps",
        "aiohttp",
        1.2,
        1,
    ),
    (
        "curl >= 0.5x raw pycurl multi, 10 in flight",
        "get_c10",
        "squall curl",
        "rps",
        "pycurl multi",
        0.5,
        1,
    ),
    (
        "blocking simple >= urllib3, sequential",
        "get_c1",
        "squall blocking simple",
        "rps",
        "urllib3",
        1.0,
        1,
    ),
    (
        "blocking curl >= 1.5x urllib3, sequential",
        "get_c1",
        "squall blocking curl",
        "rps",
        "urllib3",
        1.5,
        1,
    ),
    (
        "simple 100 MiB download >= 0.7x wrk",
        "download_100m",
        "squall simple",
        "mbps",
        "wrk",
        0.7,
        1,
    ),
    ("curl 100 MiB download >= 0.7x wrk", "download_100m", "squall curl", "mbps", "wrk", 0.7, 1),
    (
        "simple max RSS at 1000 in flight <= aiohttp",
        "get_c1000",
        "squall simple",
        "maxrss_mb",
        "aiohttp",
        1.0,
        0,
    ),
    (
        "curl max RSS at 1000 in flight <= aiohttp",
        "get_c1000",
        "squall curl",
        "maxrss_mb",
        "aiohttp",
        1.0,
        0,
    ),
]


def _targets(agg) -> list[str]:
    lines = ["| target | measured ratio | verdict |", "|---|--:|---|"]
    for desc, sc, client, metric, ref, want, higher in TARGETS:
        r = _ratio(_get(agg, sc, client, metric), _get(agg, sc, ref, metric))
        if r is None:
            verdict = "no data"
        else:
            verdict = "met" if (r >= want if higher else r <= want) else "NOT met"
        lines.append(f"| {desc} | {_x(r)} | {verdict} |")
    return lines


def markdown(env: dict, rows: list[dict]) -> str:
    agg = aggregate(rows)
    out = [
        "# squall benchmark: latest results",
        "",
        f"{env['date']}, {env['mode']} mode: {env['reps']} repetition(s) of "
        f"{env['duration']} s per cell after {env['warmup']} s of warm-up, clients interleaved. "
        f"{env['cpus']} CPUs ({env['cpu_model']}), nginx {env['nginx']} on CPU 0, client on "
        f"CPU 1, Python {env['python']}. Figures are medians over the repetitions; see "
        "bench/README.md for the method.",
        "",
        "## Targets",
        "",
        *_targets(agg),
    ]
    for sc in matrix.SCENARIOS:
        if sc.key not in agg:
            continue
        out += ["", f"## {sc.title} (`{sc.key}`)", "", *_table(sc, agg[sc.key])]
    return "\n".join(out) + "\n"


def chart(env: dict, rows: list[dict], path: str) -> None:
    """One horizontal bar panel per scenario, log scale, squall's bars highlighted."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    agg = aggregate(rows)
    scs = [s for s in matrix.SCENARIOS if s.key in agg]
    cols = 3
    nrows = -(-len(scs) // cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(6 * cols, 4.2 * nrows), squeeze=False)
    for ax, sc in zip(axes.flat, scs, strict=False):
        items = [(n, a[sc.metric]) for n, a in agg[sc.key].items() if a[sc.metric]]
        names = [n for n, _ in items][::-1]
        vals = [v for _, v in items][::-1]
        colors = [
            "tab:red" if n.startswith("squall") else "tab:gray" if n == "wrk" else "tab:blue"
            for n in names
        ]
        ax.barh(names, vals, color=colors)
        ax.set_xscale("log")
        # Minor tick labels of a log axis overlap: keep the decades only.
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(sc.key + (" (req/s)" if sc.metric == "rps" else " (MB/s)"), fontsize=10)
        ax.tick_params(axis="y", labelsize=7)
        for i, v in enumerate(vals):
            ax.text(v, i, f" {v:,.0f}", va="center", fontsize=6)
    for ax in list(axes.flat)[len(scs) :]:
        ax.axis("off")
    fig.suptitle(f"squall benchmark, {env['mode']} mode, {env['date']} (medians, log scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
