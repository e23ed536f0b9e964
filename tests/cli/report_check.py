# SPDX-License-Identifier: Apache-2.0
# report_check.py - checks a training report (linlearn report) against its metrics JSON, as a
# reader would: the pictures are there, and what they draw is the numbers of the run.
# Usage: report_check.py html METRICS.json REPORT.html [TRAIN.log]
#        report_check.py png SHOT.png          (a rendered page: not blank, the curves drawn)
import json
import math
import struct
import sys
import zlib
from html.parser import HTMLParser


class Page(HTMLParser):
    """Every element with its attributes and the <svg> it sits in."""

    def __init__(self):
        super().__init__()
        self.elems = []
        self.svg = None
        self.tags = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        a["_tag"] = tag
        if tag == "svg":
            self.svg = a
        a["_svg"] = self.svg
        self.elems.append(a)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "svg":
            self.svg = None

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None


def fail(msg):
    print("report_check: " + msg)
    sys.exit(1)


def near(a, b, tol):
    return abs(a - b) <= tol * max(1.0, abs(b))


def unmap(svg, px, py):
    """Pixel coordinates back to the values they show, from the svg's data-* ranges."""
    f = {k: float(svg["data-" + k]) for k in
         ("x-lo", "x-hi", "y-lo", "y-hi", "px-lo", "px-hi", "py-lo", "py-hi")}
    x = f["x-lo"] + (px - f["px-lo"]) / (f["px-hi"] - f["px-lo"]) * (f["x-hi"] - f["x-lo"])
    y = f["y-lo"] + (py - f["py-lo"]) / (f["py-hi"] - f["py-lo"]) * (f["y-hi"] - f["y-lo"])
    return x, y, f


def check_html(mpath, hpath, logpath=None):
    doc = json.load(open(mpath))
    text = open(hpath, encoding="utf-8").read()
    low = text.lower()
    for bad in ("<script", "http://", "https://", "@import", "<link", "<img"):
        if bad in low:
            fail("the page must be self-contained, found %r" % bad)
    p = Page()
    p.feed(text)
    h = doc["history"]
    sel = doc["selected_model"]["index"]
    K = len(h["models"])
    n_ep = len(h["epochs"])
    if n_ep != doc["epochs_completed"]:
        fail("history has %d epochs, epochs_completed is %d" % (n_ep, doc["epochs_completed"]))
    checks = 0
    # learning curves: one polyline per model; the selected one's last point is the final loss
    for key in ("train", "validation"):
        if key not in h["epochs"][0]:
            continue
        lines = [e for e in p.elems if e["_tag"] == "polyline" and e["_svg"] is not None
                 and ("curves-" + key) in e["_svg"].get("class", "")]
        if len(lines) != K:
            fail("%s curves: %d lines for %d models" % (key, len(lines), K))
        s = [e for e in lines if "selected" in e.get("class", "")]
        if len(s) != 1 or int(s[0]["data-model"]) != sel:
            fail("%s curves: the selected model %d is not the one highlighted" % (key, sel))
        final = h["epochs"][-1][key][sel]
        if not near(float(s[0]["data-last"]), final, 1e-6):
            fail("%s curve: data-last %s, history says %s" % (key, s[0]["data-last"], final))
        pts = s[0]["points"].split()
        px, py = (float(v) for v in pts[-1].split(","))
        x, y, f = unmap(s[0]["_svg"], px, py)
        tol = 0.01 * (f["y-hi"] - f["y-lo"])  # pixels are written to 0.01
        if abs(y - final) > tol or abs(x - n_ep) > 0.01:  # epochs count from 1
            fail("%s curve: last point draws (%g, %g), want epoch %d, %g" % (key, x, y, n_ep, final))
        if len(pts) != n_ep:
            fail("%s curve: %d points for %d epochs" % (key, len(pts), n_ep))
        checks += 1
    # the log's last per-epoch train line is model 0's train objective of that epoch (as
    # SageMaker reports it, docs/TRAINING.md)
    if logpath:
        last = None
        for line in open(logpath):
            if "#quality_metric" in line and "epoch=" in line and ", train " in line:
                last = float(line.rsplit("=", 1)[1])
        first = h["epochs"][-1]["train"][0]
        if last is None or first is None or not near(first, last, 1e-5):
            fail("log's last train objective %s, history's model 0 %s" % (last, first))
        checks += 1
    # the model-selection table: every model, the selected one marked
    rows = [e for e in p.elems if e["_tag"] == "tr" and "data-model" in e]
    if len(rows) != K:
        fail("model table: %d rows for %d models" % (len(rows), K))
    marked = [e for e in rows if e.get("class") == "sel"]
    if len(marked) != 1 or int(marked[0]["data-model"]) != sel:
        fail("model table: the selected model is not the marked row")
    checks += 1
    pred = h["predictor_type"]
    if pred == "binary_classifier":
        thr = doc["selected_model"]["threshold"]
        dots = [e for e in p.elems if e["_tag"] == "circle" and "thr" in e.get("class", "")]
        if not dots:
            fail("no threshold marker on the ROC/PR curves")
        for d in dots:
            ch = d["data-channel"]
            at = h["channels"][ch]["roc"]["at_threshold"]
            if not near(float(d["data-threshold"]), thr, 1e-6):
                fail("marker threshold %s, selected_model.threshold %s" % (d["data-threshold"], thr))
            x, y, _ = unmap(d["_svg"], float(d["cx"]), float(d["cy"]))
            roc = "roc" in d["_svg"].get("class", "").split()
            wx, wy = (at["fpr"], at["tpr"]) if roc else (at["recall"], at["precision"])
            if abs(x - wx) > 2e-4 or abs(y - wy) > 2e-4:
                fail("%s marker on %s at (%g, %g), want (%g, %g)" % (
                    "ROC" if roc else "PR", ch, x, y, wx, wy))
            # the point at the threshold is the confusion matrix's
            m = h["channels"][ch]["confusion"]["matrix"]
            tn, fp, fn, tp = m[0][0], m[0][1], m[1][0], m[1][1]
            if not near(at["tpr"], tp / (tp + fn), 1e-9) or not near(at["fpr"], fp / (fp + tn), 1e-9):
                fail("%s: threshold point (%g, %g) disagrees with the confusion matrix" % (
                    ch, at["fpr"], at["tpr"]))
            # and the confusion matrix's accuracy is the reported metric
            acc = doc["metrics"].get(ch + ":binary_classification_accuracy")
            if acc is not None and not near((tp + tn) / (tp + tn + fp + fn), acc, 1e-6):
                fail("%s: confusion matrix accuracy %g, metrics say %g" % (
                    ch, (tp + tn) / (tp + tn + fp + fn), acc))
            checks += 1
        curves = [e for e in p.elems if e["_tag"] == "polyline" and "curve" in e.get("class", "")]
        if len(curves) < 2:
            fail("ROC/PR curves missing")
    if pred == "multiclass_classifier":
        C = h["num_classes"]
        tables = [e for e in p.elems if e["_tag"] == "table" and "confusion" in e.get("class", "")]
        if not tables:
            fail("no confusion matrix")
        for ch, v in h["channels"].items():
            m = v["confusion"]["matrix"]
            if len(m) != C or any(len(r) != C for r in m):
                fail("%s confusion matrix is not %dx%d" % (ch, C, C))
            acc = doc["metrics"].get(ch + ":multiclass_accuracy")
            tot = sum(map(sum, m))
            if acc is not None and not near(sum(m[i][i] for i in range(C)) / tot, acc, 1e-6):
                fail("%s: confusion matrix accuracy disagrees with multiclass_accuracy" % ch)
            checks += 1
    if pred == "regressor":
        dots = [e for e in p.elems if e["_tag"] == "circle" and e.get("class") == "dot"
                and "scatter" in e["_svg"].get("class", "")]
        ch = "test" if "test" in h["channels"] else "validation"
        s = h["channels"][ch]["samples"]
        if len(dots) != len(s["actual"]) or not dots:
            fail("scatter: %d dots for %d samples" % (len(dots), len(s["actual"])))
        x, y, _ = unmap(dots[0]["_svg"], float(dots[0]["cx"]), float(dots[0]["cy"]))
        if not (near(x, s["actual"][0], 1e-3) and near(y, s["predicted"][0], 1e-3)):
            fail("scatter: first dot at (%g, %g), sample is (%g, %g)" % (
                x, y, s["actual"][0], s["predicted"][0]))
        # the samples' squared error is about the channel's mse (a sample of the rows)
        checks += 1
    print("report_check: %d checks passed (%s, %d models, %d epochs)" % (checks, pred, K, n_ep))


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG (what Chromium writes) with the stdlib."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, hh, depth, ctype, _, _, inter = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or inter:
                fail("unexpected PNG layout (depth %d, colour type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(hh):
        ft = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ft == 1:
                line[i] = (line[i] + a) & 255
            elif ft == 2:
                line[i] = (line[i] + b) & 255
            elif ft == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ft == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, hh, bpp, rows


def check_png(path):
    w, hh, bpp, rows = png_pixels(path)
    colours, accent, blue = set(), 0, 0
    for r in rows:
        for i in range(0, len(r), bpp * 2):  # every other pixel is plenty
            px = r[i:i + 3]
            colours.add(px)
            # the selected model's curve (#d9480f) and the validation curve (#1c7ed6)
            # (anti-aliased or translucent: the hue, not the exact value)
            if px[0] > 170 and px[0] > px[1] + 90 and px[1] > px[2] + 20:
                accent += 1
            if px[2] > 150 and px[2] > px[0] + 70 and px[2] > px[1] + 30:
                blue += 1
    if len(colours) < 50:
        fail("the rendered page looks blank (%d distinct colours)" % len(colours))
    if accent < 100:
        fail("the highlighted curves are not drawn (%d accent pixels)" % accent)
    if blue < 100:
        fail("the validation/ROC curves are not drawn (%d blue pixels)" % blue)
    print("report_check: %dx%d PNG, %d colours, %d accent and %d blue pixels" % (
        w, hh, len(colours), accent, blue))


if __name__ == "__main__":
    if sys.argv[1] == "html":
        check_html(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else None)
    elif sys.argv[1] == "png":
        check_png(sys.argv[2])
    else:
        fail("usage: report_check.py html|png ...")
