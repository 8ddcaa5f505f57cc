"""Make the small pictures that lessons/README.md shows, from the lessons' own figures.

Run every lesson in full mode first (they write lessons/figures/NN/), then:

    python lessons/make_thumbnails.py          # every lesson
    python lessons/make_thumbnails.py 03 04    # only these lessons

Each thumbnail is one real figure of its lesson, scaled down, written to lessons/thumbnails/
(which, unlike lessons/figures/, is kept in git so that the README shows pictures on a fresh
clone).
"""

import os
import sys

# Pillow is installed with matplotlib (it is one of matplotlib's own dependencies).
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

# lesson number -> the figure that best sums it up
THUMBNAIL_SOURCES = {
    "01": "01_curves.png",
    "02": "02_forward_steps.png",
    "03": "1_init_activations_and_gradients.png",
    "04": "1_figure1_reproduction.png",
    "05": "05_heatmaps.png",
    "06": "accuracy_vs_batch_size.png",
    "07": "bn_on_regression_output.png",
    "08": "1_train_vs_validation_curves.png",
    "09": "1_loss_landscape_and_gradient_predictiveness.png",
    "10": "10_fine_tuning.png",
    "11": "11_agreement.png",
    "12": "1_curves_with_and_without_bn.png",
    "13": "1_error_vs_batch_size.png",
}


def main(argv=None):
    numbers = sys.argv[1:] if argv is None else argv
    unknown = [n for n in numbers if n not in THUMBNAIL_SOURCES]
    if unknown:
        sys.exit(f"make_thumbnails.py: no lesson {', '.join(unknown)}; the lessons are "
                 f"{', '.join(THUMBNAIL_SOURCES)}")
    out = os.path.join(HERE, "thumbnails")
    os.makedirs(out, exist_ok=True)
    missing = []
    for number, name in THUMBNAIL_SOURCES.items():
        if numbers and number not in numbers:
            continue
        source = os.path.join(HERE, "figures", number, name)
        if not os.path.exists(source):
            missing.append(source)
            continue
        target = os.path.join(out, f"{number}.png")
        temp = target + ".tmp.png"
        with Image.open(source) as image:
            image.thumbnail((image.width * 2 // 5, image.height * 2 // 5))  # 40 %, same shape
            image.save(temp, format="PNG", optimize=True)
        os.replace(temp, target)  # a half-written thumbnail never replaces a good one
        print(f"thumbnail written: {os.path.relpath(target)}")
    if missing:
        print("Run these lessons in full mode first; their figures are missing:", file=sys.stderr)
        for path in missing:
            print(f"  {os.path.relpath(path)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
