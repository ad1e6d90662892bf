"""The compare page's charts without a server: funnel labels never overlap, small multiples
share one y scale, hover counts are whole numbers."""

from __future__ import annotations

import pandas as pd

from dashboard.app import charts_compare


def test_count_texts_have_no_decimals_for_whole_counts():
    assert charts_compare.count_texts([7.0, 1234.0, 2.5], [62.0, 2000.0, 9.8]) == [
        "7 of 62", "1,234 of 2,000", "2.5 of 9.8"]


def test_funnel_labels_do_not_overlap_even_for_crowded_offices():
    named = pd.DataFrame({"office": ["Gravesend", "Crawley", "Redhill", "Worthing",
                                     "Tunbridge Wells", "Epsom"],
                          "denominator": [80, 81, 82, 83, 84, 85],
                          "rate": [0.14, 0.145, 0.15, 0.14, 0.135, 0.15]})
    offsets = charts_compare.label_offsets(named, [0, 100], [0, 60])
    width, height = charts_compare.PLOT_PX
    boxes = []
    for (d, r, name), (ax, ay) in zip(
            named[["denominator", "rate", "office"]].itertuples(index=False, name=None),
            offsets, strict=True):
        cx, cy = d / 100 * width + ax, (60 - 100 * r) / 60 * height + ay
        half = charts_compare.CHAR_PX * len(name) / 2 + 4
        boxes.append((cx - half, cy - 8, cx + half, cy + 8))
    assert not any(charts_compare._overlap(a, b)
                   for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_small_multiples_for_a_whole_country_of_offices():
    """96 offices (the national demo's Region view): every panel's domain stays in 0..1
    (float error once put the last row's lower edge below 0 and plotly refused the figure)."""
    import pandas as pd

    from dashboard.app import charts_compare

    months = ("2026-01", "2026-02")
    monthly = pd.DataFrame([dict(office=f"Office {i:02d}", month=m, rate=50.0, numerator=5,
                                 denominator=10) for i in range(96) for m in months])
    region = pd.DataFrame(dict(month=["2026-01", "2026-02"], rate=[50.0, 50.0]))
    fig = charts_compare.small_multiples(monthly, region, "t", "v (%)", target=None)
    domains = [d for key, axis in fig.layout.to_plotly_json().items()
               if key.startswith(("xaxis", "yaxis")) for d in axis["domain"]]
    assert len(fig.data) == 192 and all(0.0 <= d <= 1.0 for d in domains)
