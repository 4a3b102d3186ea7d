#include "report/charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace clustersim::report {

namespace {

constexpr const char* kFont = "DejaVu Sans, Helvetica, Arial, sans-serif";
// Colour-blind-safe palette (Okabe & Ito 2008).
const std::vector<std::string>& palette() {
  static const std::vector<std::string> p = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                             "#56B4E9", "#D55E00", "#F0E442", "#999999"};
  return p;
}
const std::string& colour(std::size_t i) { return palette()[i % palette().size()]; }

std::string f1(double v) { return fmt::format("{:.1f}", v); }

// A small SVG writer: shapes in document order.
class Svg {
 public:
  Svg(double w, double h) : w_(w), h_(h) {}
  void rect(double x, double y, double w, double h, const std::string& fill, const std::string& stroke = "none") {
    body_ += fmt::format(R"(<rect x="{}" y="{}" width="{}" height="{}" fill="{}" stroke="{}"/>)", f1(x), f1(y),
                         f1(std::max(w, 0.0)), f1(std::max(h, 0.0)), fill, stroke) + "\n";
  }
  void line(double x1, double y1, double x2, double y2, const std::string& stroke, double width = 1,
            const std::string& dash = "") {
    body_ += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="{}"{}/>)", f1(x1), f1(y1),
                         f1(x2), f1(y2), stroke, f1(width),
                         dash.empty() ? std::string() : " stroke-dasharray=\"" + dash + "\"") + "\n";
  }
  void text(double x, double y, std::string_view s, double size = 11, const char* anchor = "start",
            const std::string& fill = "#222222", bool bold = false) {
    body_ += fmt::format(R"(<text x="{}" y="{}" font-family="{}" font-size="{}" text-anchor="{}" fill="{}"{}>{}</text>)",
                         f1(x), f1(y), kFont, f1(size), anchor, fill, bold ? R"( font-weight="bold")" : "",
                         xml_escape(s)) + "\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& pts, const std::string& stroke, double width) {
    std::string p;
    for (const auto& [x, y] : pts) p += f1(x) + "," + f1(y) + " ";
    if (!p.empty()) p.pop_back();
    body_ += fmt::format(R"(<polyline points="{}" fill="none" stroke="{}" stroke-width="{}"/>)", p, stroke, f1(width)) + "\n";
  }
  void circle(double cx, double cy, double r, const std::string& fill, const std::string& stroke = "none") {
    body_ += fmt::format(R"(<circle cx="{}" cy="{}" r="{}" fill="{}" stroke="{}" stroke-width="1.5"/>)", f1(cx), f1(cy),
                         f1(r), fill, stroke) + "\n";
  }
  [[nodiscard]] Chart done() const {
    return {fmt::format(R"(<svg xmlns="http://www.w3.org/2000/svg" version="1.2" baseProfile="tiny" width="{}" height="{}" viewBox="0 0 {} {}">)",
                        f1(w_), f1(h_), f1(w_), f1(h_)) + "\n" +
                R"(<rect x="0" y="0" width=")" + f1(w_) + R"(" height=")" + f1(h_) + R"(" fill="#ffffff"/>)" + "\n" +
                body_ + "</svg>\n",
            w_, h_};
  }

 private:
  double w_, h_;
  std::string body_;
};

// Round numbers for a linear axis from 0 to at least `top`.
std::vector<double> nice_ticks(double lo, double hi, int target = 5) {
  if (!(hi > lo)) hi = lo + 1;
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (raw <= step) break;
  }
  std::vector<double> t;
  for (double v = std::floor(lo / step) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
  if (t.back() < hi) t.push_back(t.back() + step);
  return t;
}

void legend(Svg& svg, const std::vector<std::string>& labels, double x, double y, double width) {
  double cx = x, cy = y;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double w = 22 + 6.5 * static_cast<double>(labels[i].size());
    if (cx + w > x + width) {
      cx = x;
      cy += 18;
    }
    svg.rect(cx, cy - 9, 11, 11, colour(i));
    svg.text(cx + 16, cy, labels[i], 11);
    cx += w + 10;
  }
}

}  // namespace

std::string xml_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

Chart stacked_bar(const std::vector<Segment>& parts, const Formatter& fmt) {
  const double w = 640, left = 10, right = 10, bar_w = w - left - right;
  double total = 0;
  for (const auto& p : parts) total += std::max(p.value, 0.0);
  std::vector<std::string> labels;
  for (const auto& p : parts) labels.push_back(p.label + " " + fmt(p.value));
  const double rows = std::ceil(static_cast<double>(labels.size()) / 3.0);
  Svg svg(w, 70 + 18 * rows);
  double x = left;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const double seg = total > 0 ? bar_w * std::max(parts[i].value, 0.0) / total : 0;
    svg.rect(x, 12, seg, 30, colour(i), "#ffffff");
    if (seg > 44) svg.text(x + seg / 2, 31, fmt::format("{:.0f} %", 100.0 * parts[i].value / total), 11, "middle", "#ffffff", true);
    x += seg;
  }
  legend(svg, labels, left, 64, bar_w);
  return svg.done();
}

Chart stacked_columns(const std::vector<std::string>& series, const std::vector<Stack>& stacks, double limit,
                      const std::string& limit_label, const Formatter& fmt) {
  const double w = 640, h = 300, left = 70, right = 20, top = 16, bottom = 52;
  double peak = limit;
  for (const auto& s : stacks) {
    double sum = 0;
    for (double v : s.values) sum += std::max(v, 0.0);
    peak = std::max(peak, sum);
  }
  const auto ticks = nice_ticks(0, peak);
  const double ymax = ticks.back();
  const double plot_h = h - top - bottom, plot_w = w - left - right;
  Svg svg(w, h + 18 * std::ceil(static_cast<double>(series.size()) / 4.0));
  auto y_of = [&](double v) { return top + plot_h * (1.0 - v / ymax); };
  for (double t : ticks) {
    svg.line(left, y_of(t), w - right, y_of(t), "#e0e0e0");
    svg.text(left - 6, y_of(t) + 4, fmt(t), 10, "end", "#555555");
  }
  const double slot = plot_w / std::max<std::size_t>(stacks.size(), 1);
  const double col = std::min(60.0, slot * 0.6);
  for (std::size_t i = 0; i < stacks.size(); ++i) {
    const double x = left + slot * (static_cast<double>(i) + 0.5) - col / 2;
    double base = 0;
    for (std::size_t k = 0; k < stacks[i].values.size(); ++k) {
      const double v = std::max(stacks[i].values[k], 0.0);
      svg.rect(x, y_of(base + v), col, y_of(base) - y_of(base + v), colour(k));
      base += v;
    }
    svg.text(x + col / 2, top + plot_h + 16, stacks[i].label, 10, "middle");
  }
  if (limit > 0) {
    svg.line(left, y_of(limit), w - right, y_of(limit), "#D55E00", 1.5, "6,4");
    svg.text(w - right, y_of(limit) - 5, limit_label, 10, "end", "#D55E00");
  }
  svg.line(left, top + plot_h, w - right, top + plot_h, "#555555");
  legend(svg, series, left, h - 14, plot_w);
  return svg.done();
}

Chart bars(const std::vector<std::pair<std::string, double>>& items, const Formatter& fmt, int highlight) {
  const double w = 640, label_w = 250, right = 110, row = 24;
  double peak = 0;
  for (const auto& [l, v] : items) peak = std::max(peak, v);
  Svg svg(w, 12 + row * static_cast<double>(items.size()));
  const double bar_max = w - label_w - right;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const double y = 8 + row * static_cast<double>(i);
    const bool hi = static_cast<int>(i) == highlight;
    std::string label = items[i].first;
    if (label.size() > 38) label = label.substr(0, 37) + "...";
    svg.text(label_w - 8, y + 14, label, 11, "end", "#222222", hi);
    const double bw = peak > 0 ? bar_max * items[i].second / peak : 0;
    svg.rect(label_w, y + 2, bw, row - 6, hi ? "#D55E00" : "#0072B2");
    svg.text(label_w + bw + 6, y + 14, fmt(items[i].second), 11, "start", "#222222", hi);
  }
  return svg.done();
}

Chart loss_vs_compute(const std::vector<std::pair<double, double>>& frontier, const std::vector<Marker>& markers,
                      const std::string& frontier_label) {
  const double w = 640, h = 340, left = 64, right = 24, top = 20, bottom = 64;
  double cmin = 1e300, cmax = 0, lmin = 1e300, lmax = 0;
  auto take = [&](double c, double l) {
    if (!(c > 0) || !std::isfinite(l)) return;
    cmin = std::min(cmin, c);
    cmax = std::max(cmax, c);
    lmin = std::min(lmin, l);
    lmax = std::max(lmax, l);
  };
  for (const auto& [c, l] : frontier) take(c, l);
  for (const auto& m : markers) take(m.compute, m.loss);
  Svg svg(w, h);
  if (cmax <= 0) return svg.done();
  const double x0 = std::floor(std::log10(cmin)), x1 = std::ceil(std::log10(cmax));
  const double pad = std::max((lmax - lmin) * 0.1, 0.01);
  const auto ticks = nice_ticks(lmin - pad, lmax + pad);
  const double y0 = ticks.front(), y1 = ticks.back();
  const double pw = w - left - right, ph = h - top - bottom;
  auto X = [&](double c) { return left + pw * (std::log10(c) - x0) / std::max(x1 - x0, 1.0); };
  auto Y = [&](double l) { return top + ph * (1.0 - (l - y0) / (y1 - y0)); };
  for (double t : ticks) {
    svg.line(left, Y(t), w - right, Y(t), "#e0e0e0");
    svg.text(left - 6, Y(t) + 4, fmt::format("{:.3g}", t), 10, "end", "#555555");
  }
  for (double e = x0; e <= x1; e += 1) {
    svg.line(X(std::pow(10.0, e)), top, X(std::pow(10.0, e)), top + ph, "#e0e0e0");
    svg.text(X(std::pow(10.0, e)), top + ph + 16, fmt::format("1e{:.0f}", e), 10, "middle", "#555555");
  }
  svg.line(left, top + ph, w - right, top + ph, "#555555");
  svg.line(left, top, left, top + ph, "#555555");
  svg.text(left + pw / 2, h - 30, "training compute (FLOPs, log scale)", 11, "middle");
  svg.text(14, top + 8, "loss", 11, "start");
  std::vector<std::pair<double, double>> pts;
  for (const auto& [c, l] : frontier)
    if (c > 0) pts.emplace_back(X(c), Y(l));
  svg.polyline(pts, "#0072B2", 2);
  double lx = left;
  svg.line(lx, h - 10, lx + 22, h - 10, "#0072B2", 2);
  svg.text(lx + 28, h - 6, frontier_label, 11);
  lx += 40 + 6.5 * static_cast<double>(frontier_label.size());
  // Emphasised markers first (filled), the others over them as rings, so that coinciding points both show.
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& m : markers) {
      if (m.emphasised != (pass == 0)) continue;
      svg.circle(X(m.compute), Y(m.loss), m.emphasised ? 6 : 9, m.emphasised ? "#D55E00" : "none",
                 m.emphasised ? "#D55E00" : "#009E73");
    }
  }
  for (std::size_t i = 0; i < markers.size(); ++i) {
    const auto& m = markers[i];
    svg.circle(lx + 5, h - 10, 5, m.emphasised ? "#D55E00" : "none", m.emphasised ? "#D55E00" : "#009E73");
    svg.text(lx + 14, h - 6, m.label, 11);
    lx += 30 + 6.5 * static_cast<double>(m.label.size());
  }
  return svg.done();
}

}  // namespace clustersim::report
