#pragma once
// The report's charts as self-contained SVG: plain shapes and text with presentation attributes only
// (no CSS, no scripts, no external fonts), so that browsers and Qt's SVG renderer (SVG Tiny 1.2, used
// for the PDF) draw them alike. Every text that reaches a chart is XML-escaped here.
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace clustersim::report {

std::string xml_escape(std::string_view s);  // & < > " ' as entities

struct Chart {
  std::string svg;
  double width = 0, height = 0;
};

using Formatter = std::function<std::string(double)>;

// One horizontal bar split into labelled parts (e.g. an iteration's time), with a legend.
struct Segment {
  std::string label;
  double value = 0;
};
Chart stacked_bar(const std::vector<Segment>& parts, const Formatter& fmt);

// Vertical bars, each stacked from the same series (e.g. memory per pipeline stage), with an optional
// horizontal limit line (e.g. GPU memory).
struct Stack {
  std::string label;
  std::vector<double> values;   // one per series
};
Chart stacked_columns(const std::vector<std::string>& series, const std::vector<Stack>& stacks, double limit,
                      const std::string& limit_label, const Formatter& fmt);

// Horizontal bars with a value label; `highlight` marks one bar (-1: none).
Chart bars(const std::vector<std::pair<std::string, double>>& items, const Formatter& fmt, int highlight);

// Loss against compute (log axis): the compute-optimal frontier as a line, and marked points.
struct Marker {
  std::string label;
  double compute = 0, loss = 0;
  bool emphasised = false;
};
Chart loss_vs_compute(const std::vector<std::pair<double, double>>& frontier, const std::vector<Marker>& markers,
                      const std::string& frontier_label);

}  // namespace clustersim::report
