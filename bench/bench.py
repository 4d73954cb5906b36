"""`make bench`: the real service against the raw Pillow bound, side by side, interleaved, in one run.

The service is gunicorn from gunicorn.conf.py with 2 sync workers, driven by a closed loop of 4 concurrent
clients sending multipart uploads. The bound is the plainest good Pillow pipeline (draft decode to the
target box, exif_transpose, Lanczos with reducing_gap 3.0, the same WebP settings) in 2 processes with no
HTTP. Rounds alternate service and bound for each mix so machine noise hits both alike.

Then the `cms` mix (bench/sets.py): one /variants request per photo against eight /convert requests, and
/info against a 1200 px /convert, and the placeholder's cost. Then framing (bench/framing.py): gravity=smart
against a centre crop, and how often the smart window agrees with libvips' attention crop. Then quality=auto
(bench/autoquality.py): agreement with the reference SSIMULACRA2, consistency, bytes, time and memory.
`idle` (bench/idle.py) lends idle cores to one request; `intermediates` (bench/intermediates.py) makes small
renditions of full-size decodes from larger ones, and checks the fidelity rule. `laravel` and `medialibrary`
(bench/laravel.py, bench/medialibrary.py, bench/medialibrary_bytes.py) measure what a PHP process pays for
a set and what the media library's conversions weigh against GD's; `frontends` (bench/frontends.py) what a
phone's slot gets from the image contract against next/image. `widths`
(bench/widths.py) sets widths=auto against the fixed 320/768/1200/1920 srcset: waste, files and time.
`autolatency` (bench/autoquality_latency.py) times quality=auto against a fixed quality for one 1200 px
/convert, idle and loaded, through HTTP and in process; `autochoices` (bench/autoquality_choices.py) counts
its encodes, how often the predicted quality was enough, and its bytes and scores against the baseline's.

    .venv/bin/python -m bench.bench [CORPUS_DIR] [--rounds 3] [--reps 3] [--smoke] [--json PATH]
        [--only web,thumbnails,cms,idle,intermediates,info,framing,autoquality,autolatency,autochoices,
                widths,laravel,medialibrary,frontends]
        [--examples docs/images]
        [--baseline CHECKOUT]
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import statistics
import tempfile
from pathlib import Path

from bench import (
    autoquality,
    autoquality_choices,
    autoquality_latency,
    framing,
    frontends,
    idle,
    intermediates,
    laravel,
    medialibrary,
    medialibrary_bytes,
    sets,
    widths,
)
from bench.common import (
    MIXES,
    Mix,
    bound_init,
    corpus_paths,
    generated_photos,
    markdown_table,
    mix_body,
    names_of,
    results_path,
    run_bound,
    run_service,
    write_results,
)
from testing.server import memory_of, start_gunicorn, stop_gunicorn

# --- report ----------------------------------------------------------------------------------------------


def summarise(runs: list[dict]) -> dict:
    seconds = sum(run["seconds"] for run in runs)
    count = sum(run["count"] for run in runs)
    sizes = [size for run in runs for size in run["bytes"]]
    latencies = sorted(latency for run in runs for latency in run["latencies"])
    summary = {
        "requests": count,
        "per_second": count / seconds,
        "mean_output_bytes": statistics.mean(sizes),
    }
    if latencies:
        summary["p50_ms"] = latencies[len(latencies) // 2] * 1000
        summary["p95_ms"] = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))] * 1000
    return summary


PARTS = (
    "web",
    "thumbnails",
    "cms",
    "idle",
    "intermediates",
    "info",
    "framing",
    "autoquality",
    "autolatency",
    "autochoices",
    "widths",
    "laravel",
    "medialibrary",
    "frontends",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "corpus", nargs="?", type=Path, help="a folder of photos; generated images without it"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=3, help="passes over the photos per round and side")
    parser.add_argument("--smoke", action="store_true", help="a few seconds on small generated images")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server, repeatable")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help="comma-separated parts to run (laravel needs PHP and Debian's Laravel, medialibrary "
        "MEDIALIBRARY_APP, frontends Node, Chromium and the check sites; --smoke leaves them out)",
    )
    parser.add_argument("--examples", type=Path, help="write before/after smart crops (PNG) to this folder")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. a worktree of the previous release) run side by side in the web and "
        "thumbnail mixes, so its ratios come from the same run",
    )
    args = parser.parse_args()
    server_env = dict(item.split("=", 1) for item in args.env)
    parts = set(args.only.split(","))
    if args.smoke:
        args.rounds, args.reps = 1, 1
    paths = corpus_paths(args.corpus) if args.corpus else None
    photos = [path.read_bytes() for path in paths] if paths else generated_photos(args.smoke)
    names = names_of(paths, len(photos))
    source = str(args.corpus) if args.corpus else "generated"
    print(
        f"{len(photos)} photos ({source}), {args.rounds} rounds x {args.reps} passes per mix and side",
        flush=True,
    )
    report = {
        "machine": {"cpus": multiprocessing.cpu_count(), "python": platform.python_version()},
        "photos": len(photos),
        "source": source,
        "rounds": args.rounds,
        "reps": args.reps,
    }
    with tempfile.TemporaryDirectory() as tmp:
        mixes = [mix for mix in MIXES if mix.name in parts]
        if mixes:
            report.update(bound_mixes(Path(tmp), photos, mixes, args, server_env))
        if parts & {"cms", "info"}:
            report.update(set_mixes(Path(tmp), photos, names, args, server_env))
        if "idle" in parts:
            report["idle"] = idle.run(
                Path(tmp), photos, names, paths, rounds=args.rounds, reps=args.reps, server_env=server_env
            )
        if "framing" in parts:
            report["framing"] = framing_part(Path(tmp), photos, names, args, server_env)
    if "intermediates" in parts:
        # In process and short: more repetitions than the mixes, for a steadier median.
        reps = 1 if args.smoke else max(5, args.reps)
        report["intermediates"] = intermediates.run(photos, names, reps)
        intermediates.print_report(report["intermediates"], markdown_table)
    if "autoquality" in parts:
        report["autoquality"] = autoquality.run(photos, names, args.smoke)
    if "autolatency" in parts:
        reps = 1 if args.smoke else args.reps
        report["autolatency"] = autoquality_latency.run(photos, reps, args.baseline)
    if "autochoices" in parts and not args.smoke:
        report["autochoices"] = autoquality_choices.run(args.corpus, args.baseline)
    if "widths" in parts:
        formats = ["webp"] if args.smoke else ["webp", "avif"]
        report["widths"] = widths.run(dict(zip(names, photos, strict=True)), formats, args.reps)
    if "laravel" in parts and not args.smoke:
        report["laravel"] = laravel.run(args.corpus, args.rounds)
    if "medialibrary" in parts and not args.smoke:
        report["medialibrary"] = medialibrary.measure(args.corpus, args.rounds)
        report["medialibrary_bytes"] = medialibrary_bytes.run(args.corpus)
    if "frontends" in parts and not args.smoke:
        report["frontends"] = frontends.run(args.corpus)
    if args.json or not args.smoke:  # a smoke run (make test) keeps nothing unless told
        write_results(args.json or results_path("bench", args.only.split(","), PARTS), report)


def framing_part(tmp: Path, photos: list[bytes], names: list[str], args, server_env) -> dict:
    """Smart crop against centre crop: agreement with libvips, cost through the service."""
    result = framing.agreement(photos, names)
    server = start_gunicorn(tmp / "framing", WEB_CONCURRENCY="2", LOG_LEVEL="warning", **server_env)
    try:
        costs = framing.cost(server, photos, args.rounds, args.reps)
    finally:
        stop_gunicorn(server)
    attention = framing.attention_timing(photos, reps=4 if args.smoke else 20)
    framing.print_report(result, costs, attention)
    if result and args.examples:
        for path in framing.draw_examples(photos, names, result, args.examples):
            print(f"wrote {path}")
    if result:
        for row in result["rows"]:
            row.pop("windows")
    return {"agreement": result, "cost": costs, "in_process": attention}


def set_mixes(tmp: Path, photos: list[bytes], names: list[str], args, server_env) -> dict:
    """The cms mix on two servers, then /info against /convert and the placeholder's cost."""
    report: dict = {}
    parts = set(args.only.split(","))
    env = {"WEB_CONCURRENCY": "2", "LOG_LEVEL": "warning", **server_env}
    sets_server = start_gunicorn(tmp / "sets", **env)
    singles_server = start_gunicorn(tmp / "singles", **env)
    try:
        if "cms" in parts:
            report["cms"] = sets.cms_mix(sets_server, singles_server, photos, args.rounds, args.reps)
        if "info" in parts:
            report["info"] = sets.info_costs(singles_server, photos, names, 3 if args.smoke else 7)
            report["placeholder"] = sets.placeholder_costs(photos, names)
    finally:
        stop_gunicorn(sets_server)
        stop_gunicorn(singles_server)
    sets.print_report(report.get("cms"), report.get("info", []), report.get("placeholder", []))
    if args.baseline and "cms" in parts:
        report["cms_baseline"] = baseline_cms(tmp, photos, args, env)
        print(
            f"\ncms ratio (/variants over eight /convert): this checkout {report['cms']['ratio']:.3f}, "
            f"{args.baseline} {report['cms_baseline']['ratio']:.3f}"
        )
    return report


def baseline_cms(tmp: Path, photos: list[bytes], args, env: dict[str, str]) -> dict:
    """The cms mix on servers from the baseline checkout, right after this checkout's."""
    root = args.baseline.resolve()
    sets_server = start_gunicorn(tmp / "baseline-sets", root, **env)
    singles_server = start_gunicorn(tmp / "baseline-singles", root, **env)
    try:
        return sets.cms_mix(sets_server, singles_server, photos, args.rounds, args.reps)
    finally:
        stop_gunicorn(sets_server)
        stop_gunicorn(singles_server)


def bound_mixes(tmp: Path, photos: list[bytes], mixes: list[Mix], args, server_env) -> dict:
    """The service against the raw Pillow bound for each mix, interleaved."""
    runs: dict[tuple[str, str], list[dict]] = {}
    context = multiprocessing.get_context("fork")
    with context.Pool(2, bound_init, (photos,)) as pool:
        env = {"WEB_CONCURRENCY": "2", "LOG_LEVEL": "warning", **server_env}
        servers = {"service": start_gunicorn(tmp / "bench", **env)}
        if args.baseline:
            servers["baseline"] = start_gunicorn(tmp / "baseline", args.baseline.resolve(), **env)
        sides = [*servers, "bound"]
        try:
            bodies = {mix.name: [mix_body(photo, mix) for photo in photos] for mix in mixes}
            for mix in mixes:  # warm-up: imports, caches, first-touch memory on every side
                for server in servers.values():
                    run_service(server, bodies[mix.name][:2], 1)
                run_bound(pool, photos[:2], mix, 1)
            for round_index in range(args.rounds):
                for mix in mixes:
                    # Rotate the order every round so machine noise hits every side alike.
                    shift = round_index % len(sides)
                    for side in sides[shift:] + sides[:shift]:
                        if side == "bound":
                            result = run_bound(pool, photos, mix, args.reps)
                        else:
                            result = run_service(servers[side], bodies[mix.name], args.reps)
                        runs.setdefault((mix.name, side), []).append(result)
                print(f"round {round_index + 1}/{args.rounds} done", flush=True)
            workers = {pid: memory_of(pid) for pid in servers["service"].worker_pids()}
            master = memory_of(servers["service"].process.pid)
        finally:
            for server in servers.values():
                stop_gunicorn(server)

    report: dict = {
        "mixes": {},
        "workers_mib": {
            str(pid): {k: round(v, 1) for k, v in facts.items()} for pid, facts in workers.items()
        },
        "master_mib": {k: round(v, 1) for k, v in master.items()},
    }
    print(
        "\n| mix | service req/s | bound img/s | service / bound | p50 ms | p95 ms | mean bytes service "
        "| bound | bytes ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for mix in mixes:
        service = summarise(runs[(mix.name, "service")])
        bound = summarise(runs[(mix.name, "bound")])
        ratio = service["per_second"] / bound["per_second"]
        byte_ratio = service["mean_output_bytes"] / bound["mean_output_bytes"]
        report["mixes"][mix.name] = {
            "service": service,
            "bound": bound,
            "ratio": ratio,
            "bytes_ratio": byte_ratio,
        }
        print(
            f"| {mix.name} ({mix.width} px, WebP q{mix.quality}) | {service['per_second']:.2f} | "
            f"{bound['per_second']:.2f} | {ratio:.3f} | {service['p50_ms']:.0f} | {service['p95_ms']:.0f} | "
            f"{service['mean_output_bytes']:.0f} | {bound['mean_output_bytes']:.0f} | {byte_ratio:.3f} |"
        )
    if args.baseline:
        print(f"\n| mix | this checkout / {args.baseline} (req/s) | this / bound | baseline / bound |")
        print("|---|---|---|---|")
        for mix in mixes:
            baseline = summarise(runs[(mix.name, "baseline")])
            entry = report["mixes"][mix.name]
            entry["baseline"] = baseline
            entry["baseline_ratio"] = baseline["per_second"] / entry["bound"]["per_second"]
            entry["service_over_baseline"] = entry["service"]["per_second"] / baseline["per_second"]
            print(
                f"| {mix.name} | {entry['service_over_baseline']:.3f} | {entry['ratio']:.3f} | "
                f"{entry['baseline_ratio']:.3f} |"
            )
    peak = max(facts["VmHWM"] for facts in workers.values())
    pss = max(facts["Pss"] for facts in workers.values())
    print(f"\nworker peak RSS (VmHWM) max {peak:.1f} MiB; worker PSS now max {pss:.1f} MiB; master {master}")
    report["worker_peak_rss_mib"] = peak
    report["worker_pss_mib"] = pss
    return report


if __name__ == "__main__":
    main()
