"""The table (Markdown and CSV rows) and the written reading of ``probgen compare``, both from the numbers.

The reading is generated, never fixed text: for each metric it names the best model, the runner-up and the
gap in standard deviations of the sample sets (s.d. of the difference, sqrt(s1^2 + s2^2)), puts the real
data row beside it, compares the two GAN losses (scores and early gradient norms) and reads the
memorisation check.
"""

from __future__ import annotations

import csv
import math
import statistics
from pathlib import Path

# metric -> (table heading, True if higher is better)
METRICS = {
    "fid": ("FID ↓", False), "recall": ("recall ↑", True), "coverage": ("coverage ↑", True),
    "classes_covered": ("classes covered ↑", True), "class_kl": ("class KL ↓", False),
    "cond_accuracy": ("cond. accuracy ↑", True), "test_log_likelihood": ("test log-lik. (nats) ↑", True),
}
SAYS = {"fid": "FID", "recall": "Recall", "coverage": "Coverage", "classes_covered": "Classes covered",
        "class_kl": "Class KL",
        "cond_accuracy": "Conditional accuracy", "test_log_likelihood": "Test log-likelihood"}
EXTRA = ("precision", "density")  # in the CSV; unreliable on these features (docs/compare.md)
EARLY = 50  # steps over which the early generator-gradient norms are averaged in the reading


def table_rows(ev, budget: str) -> list[dict]:
    """One dict per report (the real-data reference first): metrics, their s.d. (``<metric>_sd``), the
    memorisation distance and the budget."""
    rows = []
    for r in ev.reports:
        row = {"model": r.name, "kind": r.kind, "budget": "" if r.kind == "data" else budget}
        for key in [*METRICS, *EXTRA]:
            if key in r.metrics:
                row[key] = r.metrics[key]
                row[f"{key}_sd"] = r.spread.get(key, 0.0)
        row["test_log_likelihood"] = r.log_likelihood if r.log_likelihood is not None else "n/a"
        row["nn_distance"] = ev.test_nn_mean if r.kind == "data" else ev.nn_mean[r.name]
        row["steps"] = r.budget.get("steps", "")
        row["train_s"] = r.budget.get("train_s", "")
        rows.append(row)
    return rows


def _num(v, sd=None) -> str:
    if not isinstance(v, float | int):
        return str(v)
    text = f"{v:.3g}" if abs(v) < 100 else f"{v:.1f}"
    return text + (f" ± {sd:.2g}" if sd else "")


def table_markdown(rows: list[dict], iwae: tuple[int, int]) -> str:
    """The Markdown table: metrics as mean ± s.d., n/a where a model has no such number, notes below."""
    keys = [k for k in METRICS if any(k in r for r in rows)]
    head = ["model", "kind", *(METRICS[k][0] for k in keys), "NN dist. ¹", "budget", "steps", "train s"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["model"], r["kind"], *(_num(r.get(k, "n/a"), r.get(f"{k}_sd")) for k in keys),
                 _num(r["nn_distance"]), r["budget"], str(r["steps"]), _num(r["train_s"])]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"¹ mean pixel L2 distance of the samples to their nearest training image; the real-data "
              "row gives the same distance for real test digits (the training digits themselves would be "
              f"0). Test log-likelihood: IWAE with k = {iwae[0]} on {iwae[1]} random binarised test images, "
              "log p(x | y) for the conditional VAE (given the true labels), log p(x) otherwise; n/a for "
              "the GANs, which are implicit models with no density to evaluate"
              + ("; n/a for the DDPM, whose variational bound is not estimated here." if any(
                  r["model"] == "DDPM" for r in rows) else ".")]
    return "\n".join(lines)


def write_csv(rows: list[dict], path: Path) -> Path:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)
    return path


def _fmt(r: dict, k: str) -> str:
    return f"{r['model']} ({_num(r[k], r.get(f'{k}_sd'))})"


def _metric_sentence(rows: list[dict], key: str) -> str | None:
    """'<metric>: A wins (x ± s) ahead of B (y ± t) by g, z s.d.; real digits: w.' or None."""
    name, higher = METRICS[key]
    models = [r for r in rows if r["kind"] != "data" and isinstance(r.get(key), float | int)]
    if not models:
        return None
    models.sort(key=lambda r: r[key], reverse=higher)
    best = models[0]
    text = f"**{SAYS[key]}** ({'higher' if higher else 'lower'} is better): {_fmt(best, key)} is best"
    if len(models) > 1:
        second = models[1]
        gap = abs(best[key] - second[key])
        sd = math.hypot(best.get(f"{key}_sd", 0.0), second.get(f"{key}_sd", 0.0))
        if gap == 0:
            text = f"**{SAYS[key]}**: {_fmt(best, key)} ties with {_fmt(second, key)}"
        elif sd > 0:
            z = gap / sd
            verdict = "within sampling noise" if z < 2 else "beyond sampling noise"
            text += f", ahead of {_fmt(second, key)} by {_num(gap)}, {z:.1f} s.d. ({verdict})"
        else:
            text += f", ahead of {_fmt(second, key)} by {_num(gap)} (one estimate each, no s.d.)"
    data = [r for r in rows if r["kind"] == "data" and isinstance(r.get(key), float | int)]
    if data:
        text += f"; real training digits score {_num(data[0][key], data[0].get(f'{key}_sd'))}"
    return text + "."


def _gan_sentence(rows: list[dict], trained: list) -> str | None:
    by = {t.name: t for t in trained}
    ns, sat = by.get("GAN (non-saturating)"), by.get("GAN (saturating)")
    if ns is None or sat is None or not ns.grad_norms or not sat.grad_norms:
        return None
    k = min(EARLY, len(ns.grad_norms), len(sat.grad_norms))
    g_ns, g_sat = statistics.fmean(ns.grad_norms[:k]), statistics.fmean(sat.grad_norms[:k])
    fid = {r["model"]: r for r in rows}
    a, b = fid[ns.name], fid[sat.name]
    sd = math.hypot(a.get("fid_sd", 0.0), b.get("fid_sd", 0.0))
    z = f", {abs(a['fid'] - b['fid']) / sd:.1f} s.d." if sd > 0 else ""
    better = "non-saturating" if a["fid"] < b["fid"] else "saturating"
    return (f"**Saturating vs non-saturating loss** (same GAN, same budget): over the first {k} steps the "
            f"generator's mean gradient norm was {g_ns:.3g} with the non-saturating loss and {g_sat:.3g} "
            f"with the saturating one (ratio {g_ns / g_sat:.2g}); final FID {_num(a['fid'])} against "
            f"{_num(b['fid'])} ({better} better{z}).")


def _memo_sentence(rows: list[dict]) -> str:
    test = next(r["nn_distance"] for r in rows if r["kind"] == "data")
    models = [r for r in rows if r["kind"] != "data"]
    close = [r for r in models if r["nn_distance"] < 0.9 * test]
    nearest = min(models, key=lambda r: r["nn_distance"])
    text = (f"**Memorisation**: real test digits lie {test:.2f} (pixel L2) from their nearest training "
            f"digit; the closest model is {nearest['model']} at {nearest['nn_distance']:.2f}. ")
    if close:
        return text + ("Closer than 90% of the test digits' distance, so possibly copying: "
                       + ", ".join(r["model"] for r in close) + ".")
    return text + "No model's samples sit closer to the training set than 90% of that: no sign of copying."


def reading(rows: list[dict], trained: list, budget: str, repeats: int) -> str:
    """The written reading, one bullet per finding, generated from ``rows`` and the training records."""
    lines = [f"Every model trained for {budget}; scores are mean ± s.d. over {repeats} sample set(s) of one "
             "trained model (sampling noise, not training-seed noise)."]
    for key in METRICS:
        s = _metric_sentence(rows, key)
        if s:
            lines.append(s)
    gan = _gan_sentence(rows, trained)
    if gan:
        lines.append(gan)
    lines.append(_memo_sentence(rows))
    no_ll = [r["model"] for r in rows if r["kind"] != "data" and r["test_log_likelihood"] == "n/a"]
    if no_ll:
        ddpm = any("DDPM" in n for n in no_ll)
        ddpm = "; the DDPM's variational bound is not estimated here" if ddpm else ""
        lines.append("No test log-likelihood for " + ", ".join(no_ll) + ": a GAN is implicit (it has no "
                     f"density to evaluate on test digits){ddpm}.")
    return "\n".join(f"- {line}" for line in lines)
