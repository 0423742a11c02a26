"""Write docs/PERFORMANCE.md from the JSON files in benchmarks/results."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import PROJECT_ROOT, read_result

REPORT = PROJECT_ROOT / "docs" / "PERFORMANCE.md"
BUNDLED_EVALUATION = PROJECT_ROOT / "models" / "baseline.json"


def _machine_line(result: dict) -> str:
    machine = result["machine"]
    cpu = machine.get("cpu_model") or machine["processor"]
    flags = f"; flags {', '.join(machine['cpu_flags'])}" if machine.get("cpu_flags") else ""
    return (f"_Measured {machine['date']} on {machine['cpu_count']} CPU cores ({cpu}{flags}), "
            f"Python {machine['python']}, TensorFlow {machine['tensorflow']}._")


def _time_to_accuracy(result: dict) -> list[str]:
    target, summary, baseline = result["target"], result["summary"], result["baseline"]
    lines = [
        f"## Time to {target:.0%} test accuracy",
        "",
        _machine_line(result),
        "",
        "Training wall time until test accuracy first reaches the target (test evaluation after each epoch, "
        f"off the clock); median of {summary[baseline]['repeats']} interleaved repetitions, same split and "
        f"seed. The baseline is `{baseline}`: the Keras example as published.",
        "",
        "| run | precision | reached | epochs to target | seconds to target | images/s | final test accuracy "
        "| full training s | peak memory MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in summary.items():
        lines.append(
            f"| `{name}` | {row['precision']} | {row['reached_target']} | {row['median_epochs_to_target']} | "
            f"{row['median_seconds_to_target']} | {row['median_images_per_second']:,} | "
            f"{row['median_final_test_accuracy']:.4f} | {row['median_train_seconds']} | {row['max_peak_memory_mib']} |"
        )
    lines.append("")
    for name, ratio in result["speedup_over_baseline"].items():
        lines.append(f"- **{baseline} / {name} ({summary[name]['precision']}), time to {target:.0%}: {ratio}x**")
    if {"fast", "fast float32"} <= summary.keys():
        fast, plain = summary["fast"]["median_images_per_second"], summary["fast float32"]["median_images_per_second"]
        lines.append(f"- `fast` training throughput, {summary['fast']['precision']} over float32: "
                     f"{fast:,} / {plain:,} images/s = {fast / plain:.2f}x")
    return [*lines, ""]


def _every_preset_in_bfloat16() -> list[str]:
    """Each preset's final test accuracy per precision, gathered from the benchmarks and the bundled model."""
    rows = []
    timed = read_result("time_to_accuracy")
    if timed:
        rows += [(row["preset"], row["precision"], row["median_final_test_accuracy"], "time to accuracy, median")
                 for row in timed["summary"].values()]
    best = read_result("best_accuracy")
    if best:
        rows.append(("best", best["summary"].get("precision", "float32"), best["summary"]["median_test_accuracy"],
                     "best accuracy"))
    if BUNDLED_EVALUATION.is_file():
        bundled = json.loads(BUNDLED_EVALUATION.read_text())
        rows.append((bundled["params"]["preset"], bundled["params"].get("precision", "float32"),
                     bundled["summary"]["test_accuracy"], "models/baseline.json"))
    if not rows:
        return []
    return [
        "## Every preset in bfloat16",
        "",
        "Final MNIST test accuracy of each preset's full recipe, by the precision it trained in.",
        "",
        "| preset | precision | test accuracy | from |",
        "| --- | --- | --- | --- |",
        *[f"| `{preset}` | {precision} | {accuracy:.4f} | {source} |"
          for preset, precision, accuracy, source in sorted(rows)],
        "",
    ]


def _bundled_model(result: dict) -> list[str]:
    """The bundled model's own figures: MNIST test from its evaluation, style shift and latency beside it."""
    bundled = json.loads(BUNDLED_EVALUATION.read_text()) if BUNDLED_EVALUATION.is_file() else None
    if bundled is None:
        return []
    params, summary = bundled["params"], bundled["summary"]
    styles = result["models"]
    lines = [
        "## The bundled model and handwriting that is not MNIST",
        "",
        _machine_line(result),
        "",
        f"`models/baseline.keras` is the `{params['preset']}` preset ({summary['epochs']} epochs, trained in "
        f"{params.get('precision', 'float32')} in {summary['train_seconds']:.0f} s): "
        f"**{summary['test_accuracy']:.2%}** on MNIST test. The style-shifted set is scikit-learn's "
        "`load_digits` (1,797 digits by 43 writers, 8x8) "
        f"rendered as {result['photos']:,} photo uploads (`mnist_core.handwriting_sets`), read through "
        "`Predictor.predict_files` like `python -m mnist_core predict`.",
        "",
        "| model | accuracy on the style-shifted photos | correct | no digit found | recall per digit 0-9 |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, row in styles.items():
        recall = " ".join(f"{value:.2f}" for value in row["recall_per_digit"])
        lines.append(f"| {name} | {row['accuracy']:.2%} | {row['correct']} | {row['no_digit_found']} | {recall} |")
    return [*lines, ""]


def _best(result: dict) -> list[str]:
    summary = result["summary"]
    run = result["runs"][0]
    return [
        "## Best accuracy",
        "",
        _machine_line(result),
        "",
        "| preset | precision | epochs | test accuracy | test loss | training s | images/s | peak memory MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| `best` | {summary.get('precision', 'float32')} | {summary['epochs']} | "
        f"{summary['median_test_accuracy']:.4f} | {run['test_loss']} | "
        f"{summary['median_train_seconds']:.0f} | {run['images_per_second']:,} | {run['peak_memory_mib']} |",
        "",
    ]


def _latency(result: dict) -> list[str]:
    single, batch = result["single_image"], result["batch"]
    ours, baseline, prep = single["predictor"], single["baseline_model_predict"], single["preprocess_only"]
    return [
        "## Prediction latency",
        "",
        _machine_line(result),
        "",
        f"One 280x280 PNG through the whole public path (decode, MNIST-style preprocessing, model), "
        f"{single['images']:,} different test digits; the baseline is the same preprocessing then `model.predict`.",
        "",
        "| path | p50 ms | p90 ms | p99 ms |",
        "| --- | --- | --- | --- |",
        f"| `Predictor.predict_image` | {ours['p50_ms']} | {ours['p90_ms']} | {ours['p99_ms']} |",
        f"| preprocessing alone | {prep['p50_ms']} | {prep['p90_ms']} | {prep['p99_ms']} |",
        f"| baseline: preprocess + `model.predict` | {baseline['p50_ms']} | {baseline['p90_ms']} "
        f"| {baseline['p99_ms']} |",
        "",
        f"Single image: **{single['speedup_p50']}x** faster than the baseline at p50 "
        f"(same digit on {single['same_digit_as_baseline']}).",
        "",
        f"Batch: the {batch['images']:,} test images in **{batch['predictor_seconds']} s** "
        f"({batch['images_per_second']:,} images/s, test accuracy {batch['test_accuracy']:.4f}) against "
        f"{batch['baseline_model_predict_seconds']} s for `model.predict` ({batch['speedup']}x).",
        "",
    ]


def _app(result: dict) -> list[str]:
    lines = [
        "## App",
        "",
        _machine_line(result),
        "",
        "| measurement | median s | runs |",
        "| --- | --- | --- |",
        *[f"| {row['name']} | {row['median_seconds']} | {row['runs']} |" for row in result["measurements"]],
        "",
    ]
    training = result.get("training")
    if training:
        cli, app = training["cli_images_per_second"], training["app_images_per_second"]
        lines += [
            f"Training the `{training['preset']}` preset, interleaved in the same run: the CLI at "
            f"{', '.join(f'{value:,}' for value in cli)} images/s, the Train page (open, live charts) at "
            f"{', '.join(f'{value:,}' for value in app)} images/s: **{training['app_over_cli']:.0%} of the CLI** "
            "(medians).",
            "",
        ]
    return lines


def _multi_digit(result: dict) -> list[str]:
    lines = [
        "## Reading numbers",
        "",
        _machine_line(result),
        "",
        "Pictures of 2-5 MNIST validation digits (never test) in a row, enlarged, half drawn white on black and "
        "half as dark ink on lit paper (`benchmarks/multi_digit.py`). Per-digit accuracy in the picture counts the "
        "pictures segmented right; alone is the same enlarged digit in a picture of its own.",
        "",
        "| layout | pictures | digits | segmentation right | digit accuracy in the picture | alone "
        "| whole number right | ms per picture |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, row in result["layouts"].items():
        lines.append(
            f"| {name} | {row['pictures']} | {row['digits']} | {row['segmentation_right']:.1%} | "
            f"{row['digit_accuracy_in_picture']:.2%} | {row['digit_accuracy_alone']:.2%} | "
            f"{row['whole_number_right']:.1%} | {row['median_ms_per_picture']} |"
        )
    return [*lines, ""]


def _app_load(result: dict) -> list[str]:
    timing, memory = result["stroke_to_prediction"], result["memory_mib"]
    at_the_end = memory["after_100_mib"] + result["memory_growth_mib"]
    return [
        "## App under load",
        "",
        _machine_line(result),
        "",
        f"{result['sessions']} browser sessions draw on the Predict page at once ({result['predictions']:,} "
        f"predictions) while `train --preset fast` runs beside the app ({result['trainings_finished_meanwhile']} "
        f"trainings finished meanwhile; load average {result['load_average_at_start']} at the start). Time from "
        "releasing the mouse to the prediction shown: a new picture of the drawing on the page, the script "
        "stopped. Each stroke starts once the pointer over the canvas is the drawing crosshair, as a person "
        "waits for it; an earlier drag draws nothing.",
        "",
        "| p50 s | p90 s | p99 s | errors | memory after 100 predictions MiB | memory at the end MiB |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {timing['p50_ms'] / 1000:.3f} | {timing['p90_ms'] / 1000:.3f} | {timing['p99_ms'] / 1000:.3f} | "
        f"{result['errors']} | {memory['after_100_mib']} | {at_the_end:.1f} |",
        "",
        *([f"Errors: {', '.join(result['error_kinds'])}.", ""] if result["errors"] else []),
    ]


def _serving(result: dict) -> list[str]:
    rows = {"in_process": "in-process `Predictor.predict_image`, 32 threads",
            "server": "`python -m mnist_core serve --no-micro-batch`",
            "server_micro_batch": "`python -m mnist_core serve` (micro-batching, the default)"}
    ratios, fault = result["ratios"], result["restart_mid_load"]
    return [
        "## Model server under load",
        "",
        _machine_line(result),
        "",
        f"{result['clients']} concurrent clients send {result['pictures']:,} MNIST test digits as 280x280 PNGs, one "
        "picture per v1 request, over loopback; the in-process baseline reads the same pictures from as many "
        f"threads. Medians of {result['rounds']} interleaved rounds; ratios are the medians of the ratios within "
        f"each round. Clients and server share the same 2 cores (load average {result['load_average_at_start']} at the "
        "start: other work was running).",
        "",
        "| path | pictures/s | p50 ms | p90 ms | p99 ms | errors | digits right |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        *[f"| {label} | {result['load'][name]['pictures_per_second']} | {result['load'][name]['p50_ms']} | "
          f"{result['load'][name]['p90_ms']} | {result['load'][name]['p99_ms']} | {result['load'][name]['errors']} | "
          f"{result['load'][name]['digits_right']} |" for name, label in rows.items()],
        "",
        "Throughput, server with micro-batching / in-process: "
        f"**{ratios['micro_batch_over_in_process_throughput']}x**; "
        f"without micro-batching / in-process: **{ratios['server_over_in_process_throughput']}x**; micro-batching / "
        f"without: **{ratios['micro_batch_over_server_throughput']}x**.",
        "",
        f"Restart mid-load (SIGTERM a third of the way in, then the server started again on its port): "
        f"{fault['errors']} of {fault['requests']} requests failed ({', '.join(fault['error_kinds'])}), the longest "
        f"failure took {fault['longest_failed_request_seconds']} s (an error, not a hang); the new server was ready "
        f"{fault['seconds_to_ready_after_sigterm']} s after the SIGTERM, and {fault['errors_after_ready']} requests "
        f"failed after that; the answered ones read {fault['digits_right']} digits right.",
        "",
    ]


def _feedback(result: dict) -> list[str]:
    learning, logging = result["learning"], result["logging"]
    baseline = learning["baseline"]["other_writers_accuracy"]
    lines = [
        "## Learning from corrections",
        "",
        _machine_line(result),
        "",
        f"Handwriting that is not MNIST: scikit-learn's `load_digits` rendered as photo uploads "
        f"(`mnist_core/handwriting_sets.py`). The first {learning['corrections'] // 10} of each digit (the set's "
        f"first writers; it has no writer ids, so this is a split by index blocks) are stored as "
        f"{learning['corrections']} labelled examples, {learning['snapshots'][0]['held_out']} of them held out "
        f"(which ones depends on the entries' random ids: {len(learning['snapshots'])} repetitions, each with "
        "fresh ids); accuracy is measured on the "
        f"{learning['other_writers_images']:,} digits after them (other writers). "
        "Training seconds are `fit` wall time; the strategies take turns in one process; "
        + (f"the 1-minute load average was {result['load_average_1min']['start']} at the start and "
           f"{result['load_average_1min']['end']} at the end (2 cores shared with other work)."
           if "load_average_1min" in result else ""),
        "",
        "Median over the repetitions (worst in brackets):",
        "",
        "| model | training s | other writers | held-out examples | MNIST test |",
        "| --- | --- | --- | --- | --- |",
        f"| the bundled model | – | {baseline:.2%} | – "
        f"| {learning['baseline']['mnist_test_accuracy']:.4f} |",
    ]
    for strategy in ("finetune", "retrain"):
        row = learning[strategy]
        lines.append(
            f"| `{strategy}` on the examples | {row['median_train_seconds']} | "
            f"{row['median_other_writers_accuracy']:.2%} ({row['min_other_writers_accuracy']:.2%}) | "
            f"{row['median_held_out_examples_accuracy']:.2%} ({row['min_held_out_examples_accuracy']:.2%}) | "
            f"{row['median_mnist_test_accuracy']:.4f} ({row['min_mnist_test_accuracy']:.4f}) |"
        )
    finetune, retrain = learning["finetune"], learning["retrain"]
    time_ratio = finetune["median_train_seconds"] / retrain["median_train_seconds"]
    lines += [
        "",
        f"**finetune / retrain training time: {time_ratio:.2f}x**"
        f"; other-writer accuracy {baseline:.2%} -> {finetune['median_other_writers_accuracy']:.2%} (finetune), "
        f"{retrain['median_other_writers_accuracy']:.2%} (retrain).",
        "",
        f"Logging a prediction ({logging['images']} photos through `predict_image`, in blocks of 20 with the log "
        "off and on in turn, 10 ms apart): p50 "
        f"{logging['predict_p50_ms']} ms off, {logging['predict_and_log_p50_ms']} ms on, "
        f"**{logging['added_p50_ms']:+} ms**; the `record` call on the request's thread takes "
        f"{logging['record_call_p50_ms']} ms at p50. The writer thread stored "
        f"{logging['entries_written']} of {logging['images']} entries.",
        "",
    ]
    return lines


WHAT_CHANGED = """## What made it fast

Measured while building, on the same machine; the numbers above are the ones to quote.

- **`fast` preset** (`mnist_core/config.py`, `models.fast`): a 5x5 conv with 48 filters and a 3x3 conv with
  64, each max-pooled *before* BatchNorm and ReLU so those run on a quarter of the pixels; no dropout; one
  epoch at batch 128 with a one-cycle learning rate (warm-up to 1.3e-2, cosine down) and label smoothing
  0.1. Batch 128 took an epoch from 8.7 s to 7.5 s; the learning rate was chosen on validation accuracy
  over seeds 42, 1 and 2 (mean 98.98% at 1.3e-2, against 98.94% at 8e-3 and 98.96% at 1.6e-2); test
  accuracy was 99.15-99.21% for those seeds. Tried and dropped: the Keras example without dropout (98.6%
  after 2 epochs), BatchNorm and ReLU before pooling (slower per epoch, no more accurate), 32 filters in
  the first conv (6.5 s, but validation 98.6-98.8% and test 99.03%: too close to the bar).
- **Steps per execution** (`Preset.steps_per_execution`, 8 for every preset but the Keras example as
  published): Keras runs 8 training steps per call into TensorFlow, so the Python around each step
  (callbacks, the loop) runs an eighth as often; 8% quicker for `fast` at batch 64. Progress events and the
  cancel check then come every 8 steps (about 0.1 s).
- **Fused batch normalisation** (`models.FusedBatchNormalization`): Keras 3's `BatchNormalization`
  normalises a training batch with about twenty small ops (casts to float32, moments, multiplies) and
  as many in the gradient; a TensorFlow profile of `fast`'s step put them at 7 ms of 19 ms of op time,
  more than the convolutions' backward pass. The layer now trains through `FusedBatchNormV3` (oneDNN's
  kernel, one op each way, which grappler also fuses with the ReLU after it): a step at batch 128 takes
  10.4 ms instead of 15.4 ms, and `fast` trains in 5.6-6.2 s instead of 7.9-8.6 s (7 seeds each, one
  session). Validation accuracy is the same (98.93% mean over the 7 seeds both ways); the unit tests
  check outputs, gradients and moving statistics against Keras's layer in float32 and bfloat16. The
  saved model keeps Keras's own layer (the weights are the same), so a model file still loads with
  Keras alone. This took the time-to-99% ratio from 9.73x to 13.12x, and `fast` in float32 from 7.32x
  to 8.37x.
- **Where the rest of a one-epoch run goes** (per-batch timeline, 2 runs): of `fast`'s 5.4-5.5 s, the
  first 8 steps end 1.26-1.30 s after the start (tracing and building the training program, and its
  first run), the other 414 steps take 3.3 s (8.5 ms each), and the validation pass 0.5 s, most of it
  tracing the evaluation program. Of a step's op time, the two convolutions' backward passes are the
  largest part (4.4 of 12.6 ms); the first conv, with a single input channel, is the least efficient.
- **The end of an autotuned `tf.data` pipeline**: in more than half of one-epoch runs, `fit` returned
  2-3 s after its last callback, waiting (a `py-spy --native` dump showed) in the iterator's destructor
  for tf.data's autotuning thread. The pipeline now shuffles indices and gathers each batch, with fixed
  prefetch and autotuning off: the wait is gone (0 of 15 runs) and an epoch is no slower. This was real
  time for every CLI and app run, though the time-to-accuracy clock above never counted it.
- **bfloat16 mixed precision** (`mnist_core/precision.py`): on by default where the CPU has AVX512_BF16 or
  AMX (read from `/proc/cpuinfo`) or the GPU has compute capability 8.0 or more; weights stay float32, the
  output layer computes in float32, and the trained model is copied into a float32 one before it is
  evaluated and saved, so prediction never runs in bfloat16. `--precision` on the CLI and the Train page
  choose it; the run's params say which ran. The CPU's convolutions then run on AMX (`ONEDNN_VERBOSE`
  shows `brg_conv_fwd:avx10_1_512_amx`). The 2026-11-24 figures above were taken while four other
  engineers shared the 2 cores (load average 5 to 25): absolute times are 3-5x those of a quiet run,
  and only the interleaved ratios compare. There `fast` gained 1.41x from bfloat16 at batch 64, not the 2.2x
  seen on an EPYC: per-step overhead was a large share of its time, hence the bigger steps above.
  Every preset kept its accuracy in bfloat16 (measured on 2026-11-24, before the fused batch norm):
  `best` 99.57% against 99.60% in float32, `keras-example` 99.08% against 99.09%, `fast` 99.11% against
  99.22%; `handwriting` was trained only in bfloat16. With the fused kernel (2026-11-25, table "Every
  preset in bfloat16"): `best` 99.64% in 281 s, `fast` 99.16% (99.22% in float32), and `handwriting`
  retrained 99.49% (`models/README.md`).
- **`handwriting` preset**: augmentation runs in `tf.data` on whole batches (`mnist_core/augment.py`:
  one bilinear warp for rotation, slant, aspect ratio and an elastic field, a grey dilation or erosion
  for stroke width, then the upload layout: 20-pixel box, centre of mass in the middle, stroke cores
  saturated), about 12 ms per batch of 128 on one core, in parallel with the training step. A first
  run that changed every image reached only 97.90% test: validation fell from 98.57% to 97.7% as it
  trained, and the same model read the validation digits at 99.0% once they had been resampled, so it had
  learnt the softer look of resampled digits. Changing half the images and leaving half as MNIST made
  them fixed that (validation 99.1% by epoch 4, 99.52% at the end, test 99.51%); it also read other
  writers better: 96.8% of the first 400 style-shifted photos against 87.3% for the all-changed run.
  Augmentation used to be Keras layers inside the model; it is now data, so `best` trains with the
  same transforms in the data pipeline and the saved models are only the network.
- **BatchNorm momentum 0.9**: with Keras's 0.99 the moving statistics lag a net trained for one or two
  epochs at a high learning rate; validation accuracy was 16% after the first epoch while training
  accuracy was 93%.
- **No XLA on CPU**: `jit_compile=True` made a Keras-example epoch 7.7x slower here (80.9 s against 10.5 s
  for two epochs), so training keeps Keras's CPU default (off).
- **Input pipeline**: the arrays stay in memory in one `tf.data` pipeline (reshuffled each epoch,
  batched, prefetched); `fit` traces the step once for all epochs. The images stay uint8 (42 MB, not
  170 MB of floats captured in the pipeline's graph) and each batch is scaled as `as_model_input` scales:
  the first 8 steps of `fast` end 1.15 s after training starts instead of 1.7-1.8 s, though a whole epoch
  is no quicker in the time-to-accuracy benchmark (7.86 s against 7.80 s, within its spread).
- **Prediction**: `Predictor` calls a traced graph of the model, instead of `model.predict`, which sets up
  a data pipeline on every call; as a concrete function it skips `tf.function`'s dispatch (1.18 -> 0.94 ms
  for one image). One image goes through an XLA-compiled program instead (0.91 against 1.14 ms measured
  between preprocessing calls; compiled in 0.3 s when the predictor is made); batches stay on the graph,
  where XLA was slower (103 against 90 ms for 1,000 images). In the ink search, finding runs of ink by
  comparing a padded boolean mask with its shifted self replaced `np.diff` on an int8 view (148 -> 36 us
  for a canvas). Together: p50 3.14 -> 2.68 ms.
- **App reruns**: importing TensorFlow and Keras adds about 330,000 Python objects that the garbage
  collector tracks, and Streamlit collects garbage after every rerun. `gc.freeze()` once TensorFlow is
  loaded (`app_common.keep_reruns_fast`) took the Overview rerun from 0.42 s to 0.06 s and the Predict
  rerun after a stroke from 0.73 s to 0.30 s. The sidebar no longer imports TensorFlow, which took the
  first page from 5.2 s to 1.8 s. Of the 0.30 s after a stroke, about 0.21 s is the canvas component
  waiting before it sends the drawing.
- **The canvas's own wait**: streamlit-drawable-canvas 0.13 debounces every drawing change by 200 ms
  before it sends it to the server (`Bc = 200` in its bundled frontend; `st_canvas` has no option for it).
  The "canvas component's wait" row above is that delay plus delivery, measured from the pointer's release
  to the rerun's start on the page's own clock, so "last stroke to prediction" cannot go under about
  0.2 s with this component however fast the rerun is; the rerun itself is the row below it.
- **Live training charts**: the Train page's fragment redraws every 2 s while a run trains in a thread
  of the same process. A two-panel Plotly figure took 59 ms of Python (interpreter lock held) to build
  each time and `st.line_chart` 88-104 ms (Altair builds and validates a spec); the live charts are now
  `st.vega_lite_chart`s of a ready spec (2.2-2.5 ms), Plotly is kept for the
  finished run. The training curve within each epoch is kept in the run's `history.json`
  (`batch_curve`), so Evaluate draws the same curve.
- **No collection after every rerun** (`runner.postScriptGC = false` in `.streamlit/config.toml`): the
  freeze above happens after a full page run, but the Train page's fragment reruns alone while the job's
  thread has loaded TensorFlow and built the model; with those ~415,000 objects tracked, the full
  collection Streamlit runs after every rerun took 190-510 ms (interpreter lock held), every second.
- **Refresh every 2 s, not every second**: with the page open, each refresh of the live view costs the
  training beside it the server's rerun (0.04 s) and, more, the browser redrawing on the same two cores;
  every second the app trained at 88.6% of the CLI's images/s, every 2 s at 96.5% (3 runs each, in one
  session). Keras's own state is also left alone between reruns now: Streamlit called
  `keras.backend.clear_session()` after every rerun (`app_common.reruns`), which had kept the app at 60%.
- **Reading numbers**: segmentation reuses the one-digit ink search, so a picture of a number costs one
  ink search, one connected-component pass and one model batch for all its digits.
"""

SECTIONS = {
    "time_to_accuracy": _time_to_accuracy,
    "style_shift": _bundled_model,
    "best_accuracy": _best,
    "predict_latency": _latency,
    "multi_digit": _multi_digit,
    "app": _app,
    "app_load": _app_load,
    "serving": _serving,
    "feedback_learning": _feedback,
}


def write_report(path: Path = REPORT) -> Path:
    lines = [
        "# Performance",
        "",
        "Written by `python -m benchmarks` from `benchmarks/results/*.json`; every comparison is against a "
        "baseline measured in the same run.",
        "",
    ]
    for name, section in SECTIONS.items():
        result = read_result(name)
        lines += section(result) if result else [f"_{name}: not measured yet._", ""]
    lines += _every_preset_in_bfloat16()
    lines.append(WHAT_CHANGED)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))
    return path
