"""Rating scales of review files (section 4.2): 1..K stars, or K named labels in order.

A scale maps each raw rating of a file to a class index of the softmax output
and to the value the expected rating (the paper's RMSE measure) uses.
"""

import dataclasses
import math
import numbers

from keras_sparse_rect._validation import check_int


@dataclasses.dataclass(frozen=True)
class RatingScale:
    """The ratings of a review file: 1..K stars, or K named labels.

    ``labels`` are the ratings as written in the file, ``values`` the number
    each stands for (the star value, or 0..K-1 for labels: "rotten" 0,
    "fresh" 1). Class ``k`` of the softmax output is rating ``labels[k]``; the
    expected rating of section 4.2 is ``sum_k p_k * values[k]``.

    Example:

    >>> from keras_sparse_rect.data import RatingScale
    >>> RatingScale.parse("5").values
    (1.0, 2.0, 3.0, 4.0, 5.0)
    >>> RatingScale.parse("rotten,fresh").index("fresh")
    1
    """

    labels: tuple
    values: tuple
    stars: bool

    @classmethod
    def star_scale(cls, num_stars):
        """Whole stars ``1 .. num_stars`` (written as numbers: "4", "4.0", 4)."""
        stars = range(1, check_int("scale", num_stars, 2) + 1)
        return cls(tuple(str(s) for s in stars), tuple(float(s) for s in stars), True)

    @classmethod
    def label_scale(cls, labels):
        """Named labels in increasing order (e.g. ``("rotten", "fresh")``), values 0..K-1."""
        labels = tuple(str(label).strip() for label in labels)
        if len(labels) < 2 or len(set(labels)) != len(labels) or not all(labels):
            raise ValueError(
                f"`scale` must name at least 2 distinct, non-empty labels; got scale={labels!r}."
            )
        return cls(labels, tuple(float(i) for i in range(len(labels))), False)

    @classmethod
    def parse(cls, scale):
        """A scale from an int (stars), a digit string ("5"), labels ("rotten,fresh"), or a list."""
        if isinstance(scale, RatingScale):
            return scale
        if isinstance(scale, numbers.Integral) and not isinstance(scale, bool):
            return cls.star_scale(scale)
        if isinstance(scale, str):
            text = scale.strip()
            if text.isdigit():
                return cls.star_scale(int(text))
            if "," in text:
                return cls.label_scale(text.split(","))
        elif isinstance(scale, (list, tuple)):
            return cls.label_scale(scale)
        raise ValueError(
            "`scale` must be a number of stars (e.g. 5) or comma-separated labels in "
            f"increasing order (e.g. 'rotten,fresh'); got scale={scale!r}."
        )

    @property
    def num_classes(self):
        return len(self.labels)

    def describe(self):
        if self.stars:
            return f"1..{self.num_classes} stars"
        return " < ".join(self.labels)

    def index(self, raw):
        """The class index of a raw rating; raises ValueError with the reason if none."""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            raise ValueError("missing rating")
        if not self.stars:
            label = str(raw).strip()
            if label not in self.labels:
                raise ValueError(f"rating {label!r} outside the scale ({self.describe()})")
            return self.labels.index(label)
        if isinstance(raw, bool):
            raise ValueError(f"non-numeric rating {raw!r}")
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ValueError(f"non-numeric rating {str(raw).strip()!r}") from None
        if math.isnan(value):
            raise ValueError(f"non-numeric rating {str(raw).strip()!r}")
        if value != round(value) or not 1 <= value <= self.num_classes:
            raise ValueError(f"rating {str(raw).strip()} outside the scale ({self.describe()})")
        return int(value) - 1
