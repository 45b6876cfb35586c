// Learning curves as one line of glyphs (shape, the common scale, rungs, gaps, NaN,
// narrow widths) and drawn large for the plot pane.
#include "ui-tui/sparkline.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "ui-tui/cells.hpp"
#include "ui-tui/curve_plot.hpp"

using namespace flow;
using namespace flow::tui;
using run::CurvePoint;

namespace {

// Loss 9, 8, ..., 1 over epochs 1..9.
std::vector<CurvePoint> falling() {
  std::vector<CurvePoint> c;
  for (int e = 1; e <= 9; ++e)
    c.push_back({e, 10.0 - e});
  return c;
}

CurveScale scale_of(std::initializer_list<const std::vector<CurvePoint>*> curves, int max_epochs) {
  return curve_scale(std::vector<const std::vector<CurvePoint>*>(curves), max_epochs);
}

const std::vector<int> kRungs = {1, 3, 9};

}  // namespace

TEST(TuiSparkline, AFallingLossStepsDownWithTheRungsMarked) {
  const auto c = falling();
  const CurveScale s = scale_of({&c}, 9);
  EXPECT_EQ(s.first_epoch, 1);
  EXPECT_EQ(s.last_epoch, 9);
  EXPECT_DOUBLE_EQ(s.lo, 1);
  EXPECT_DOUBLE_EQ(s.hi, 9);
  ASSERT_EQ(sparkline_width(s, kRungs), 11);  // 9 epochs, rungs after epochs 1 and 3
  const std::string line = sparkline(c, s, kRungs, 11, true);
  EXPECT_EQ(line, "█┆▇▆┆▅▅▄▃▂▁");
  EXPECT_EQ(cell_width(line, true), 11);
  // Without rungs (not ASHA): one glyph per epoch.
  EXPECT_EQ(sparkline(c, s, {}, 9, true), "█▇▆▅▅▄▃▂▁");
}

TEST(TuiSparkline, ATerminalWithoutUtf8GetsAsciiGlyphs) {
  const auto c = falling();
  const CurveScale s = scale_of({&c}, 9);
  const std::string line = sparkline(c, s, kRungs, 11, false);
  EXPECT_EQ(line, "^|^-|--..__");
  for (char ch : line)
    EXPECT_TRUE(static_cast<unsigned char>(ch) < 0x80) << line;
}

TEST(TuiSparkline, EveryTrialIsDrawnOnTheSameScale) {
  // b's values are the bottom half of a's range: its glyphs stay low.
  std::vector<CurvePoint> a = {{1, 10}, {2, 20}}, b = {{1, 10}, {2, 15}};
  const CurveScale s = scale_of({&a, &b}, 2);
  EXPECT_EQ(sparkline(a, s, {}, 2, true), "▁█");
  EXPECT_EQ(sparkline(b, s, {}, 2, true), "▁▅");
  // Alone, b would span the whole height.
  EXPECT_EQ(sparkline(b, scale_of({&b}, 2), {}, 2, true), "▁█");
}

TEST(TuiSparkline, ATrialStoppedAtTheFirstRungEndsThere) {
  const auto full = falling();
  const std::vector<CurvePoint> stopped = {{1, 9}};
  const CurveScale s = scale_of({&full, &stopped}, 9);
  EXPECT_EQ(sparkline(stopped, s, kRungs, 11, true), "█┆  ┆      ");
  EXPECT_EQ(sparkline(stopped, s, kRungs, 11, false), "^|  |      ");
}

TEST(TuiSparkline, ASingleEpochOrAConstantMetricSitsMidHeight) {
  const std::vector<CurvePoint> one = {{1, 0.25}};
  const CurveScale s1 = scale_of({&one}, 1);
  EXPECT_EQ(sparkline_width(s1, {}), 1);
  EXPECT_EQ(sparkline(one, s1, {}, 1, true), "▅");
  EXPECT_EQ(sparkline(one, s1, {}, 1, false), "-");
  const std::vector<CurvePoint> flat = {{1, 3}, {2, 3}, {3, 3}};
  const CurveScale s3 = scale_of({&flat}, 3);
  EXPECT_EQ(sparkline(flat, s3, {}, 3, true), "▅▅▅");
}

TEST(TuiSparkline, NanAndMissingEpochsAreMarkedNotDrawnAsValues) {
  // Epoch 2 reported NaN, epoch 3 nothing.
  const std::vector<CurvePoint> c = {{1, 5}, {2, NAN}, {4, 1}};
  const CurveScale s = scale_of({&c}, 4);
  EXPECT_DOUBLE_EQ(s.lo, 1);
  EXPECT_DOUBLE_EQ(s.hi, 5);
  EXPECT_EQ(sparkline(c, s, {}, 4, true), "█× ▁");
  EXPECT_EQ(sparkline(c, s, {}, 4, false), "^x _");
  // Only NaN: no scale, every point marked.
  const std::vector<CurvePoint> bad = {{1, NAN}};
  const CurveScale none = scale_of({&bad}, 2);
  EXPECT_FALSE(none.has_values);
  EXPECT_EQ(sparkline(bad, none, {}, 2, true), "× ");
  // No point at all: blank.
  EXPECT_EQ(sparkline({}, none, {}, 2, true), "  ");
}

TEST(TuiSparkline, NarrowWidthsShareCellsAndDropTheRungs) {
  const auto c = falling();
  const CurveScale s = scale_of({&c}, 9);
  // Room for the epochs but not the rungs: no separators, padded to the width.
  EXPECT_EQ(sparkline(c, s, kRungs, 10, true), "█▇▆▅▅▄▃▂▁ ");
  // 3 cells: epochs 1-3, 4-6, 7-9, each showing its latest value (7, 4, 1).
  EXPECT_EQ(sparkline(c, s, kRungs, 3, true), "▆▄▁");
  EXPECT_EQ(sparkline(c, s, kRungs, 1, true), "▁");
  EXPECT_EQ(sparkline(c, s, kRungs, 0, true), "");
}

TEST(TuiSparkline, EpochsBeyondMaxEpochsOrFromZeroWidenTheRange) {
  const std::vector<CurvePoint> c = {{0, 2}, {1, 1}, {3, 0}};
  const CurveScale s = scale_of({&c}, 2);
  EXPECT_EQ(s.first_epoch, 0);
  EXPECT_EQ(s.last_epoch, 3);
  EXPECT_EQ(sparkline(c, s, {}, 4, true), "█▅ ▁");
}

TEST(TuiSparkline, TheLegendSaysWhatTheGlyphsMean) {
  const auto c = falling();
  const CurveScale s = scale_of({&c}, 9);
  EXPECT_EQ(curve_legend(s, "loss", "min", true, true),
            "curve: loss by epoch 1-9, ▁ 1 to █ 9 in all rows, min is best; ┆ rung");
  // Long values are cut to 4 digits.
  const std::vector<run::CurvePoint> precise = {{1, 0.123456789}, {2, 0.987654321}};
  EXPECT_NE(
      curve_legend(scale_of({&precise}, 2), "acc", "max", false, true).find("▁ 0.1235 to █ 0.9877"),
      std::string::npos);
  EXPECT_EQ(curve_legend(s, "acc", "max", false, false),
            "curve: acc by epoch 1-9, _ 1 to ^ 9 in all rows, max is best");
  EXPECT_EQ(curve_legend(scale_of({}, 5), "loss", "min", false, false),
            "curve: loss by epoch 1-5, no value yet, min is best");
}

TEST(TuiCurvePlot, AFallingLossDescendsAcrossRowsWithAxesAndRungs) {
  const auto c = falling();
  const CurveScale s = scale_of({&c}, 9);
  EXPECT_EQ(plot_curve(c, s, kRungs, 11, 5, true),
            (std::vector<std::string>{"9┤█▅▂      ", " │   ▇▅▂   ", "1┤      ▇▄▁", " └┴─┴──────",
                                      "  1 3     9"}));
  EXPECT_EQ(plot_curve(c, s, kRungs, 11, 5, false),
            (std::vector<std::string>{"9|^-_      ", " |   ^-_   ", "1|      ^._", " ++-+------",
                                      "  1 3     9"}));
}

TEST(TuiCurvePlot, FewEpochsTakeSeveralCellsEach) {
  // 2 epochs in 15 plot cells: 7 cells each; labels under the first and the last.
  const std::vector<run::CurvePoint> c = {{1, 0.5}, {2, 0.25}};
  EXPECT_EQ(plot_curve(c, scale_of({&c}, 2), {}, 20, 4, false),
            (std::vector<std::string>{" 0.5|^^^^^^^       ", "0.25|       _______",
                                      "    +--------------", "     1            2"}));
}

TEST(TuiCurvePlot, NanSitsOnTheBottomRowAndAnUntrainedEpochIsBlank) {
  const std::vector<run::CurvePoint> c = {{1, 2}, {2, NAN}};
  const CurveScale s = scale_of({&c}, 3);
  EXPECT_EQ(plot_curve(c, s, {}, 5, 4, false),
            (std::vector<std::string>{"2|_  ", "2| x ", " +---", "  1 3"}));
  // Too small for a plot: nothing rather than a broken one.
  EXPECT_TRUE(plot_curve(c, s, {}, 5, 3, false).empty());
  EXPECT_TRUE(plot_curve(c, s, {}, 2, 6, false).empty());
}
