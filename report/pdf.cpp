// The PDF form of a report: A4 pages laid out block by block with Qt. Text blocks are small HTML documents
// (QTextDocument); long tables, lists and code split between rows and lines, never through them; charts
// are drawn by QSvgRenderer as vectors. Without Qt 6 at configure time, to_pdf() says so.
#include "report/writers.hpp"

#if defined(CLUSTERSIM_REPORT_PDF)
#include <QAbstractTextDocumentLayout>
#include <QBuffer>
#include <QByteArray>
#include <QFont>
#include <QGuiApplication>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgRenderer>
#include <QTextDocument>

#include <algorithm>
#include <functional>
#include <memory>
#include <vector>
#endif

namespace clustersim::report {

#if defined(CLUSTERSIM_REPORT_PDF)

namespace {

constexpr int kDpi = 300;

const char* kStyle =
    "h1 { font-size: 17pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 10pt; color: #111111; }"
    "p { margin-top: 3pt; margin-bottom: 3pt; } .subtitle { color: #666666; }"
    "table { margin-top: 2pt; margin-bottom: 4pt; } th { background-color: #eeeeee; font-weight: bold; }"
    "td, th { font-size: 8pt; } td.num, th.num { text-align: right; } li { margin-bottom: 1pt; }"
    "pre { font-size: 7pt; } .caption { color: #555555; font-size: 8pt; }";

std::string table_html(const Table& t, std::size_t from, std::size_t to) {
  auto cls = [&](std::size_t i) {
    return i < t.numeric.size() && t.numeric[i] ? std::string(" class=\"num\" align=\"right\"") : std::string();
  };
  std::string h = "<table border=\"1\" cellspacing=\"0\" cellpadding=\"3\" style=\"border-collapse: collapse; "
                  "border-color: #bbbbbb\" width=\"100%\">";
  if (has_header(t)) {
    h += "<tr>";
    for (std::size_t i = 0; i < t.header.size(); ++i) h += "<th" + cls(i) + ">" + html_escape(t.header[i]) + "</th>";
    h += "</tr>";
  }
  for (std::size_t r = from; r < to; ++r) {
    h += "<tr>";
    for (std::size_t i = 0; i < t.rows[r].size(); ++i) h += "<td" + cls(i) + ">" + html_escape(t.rows[r][i]) + "</td>";
    h += "</tr>";
  }
  return h + "</table>";
}

// Lays blocks out on A4 pages. y is the top of free space on the current page, in device pixels.
class PageWriter {
 public:
  PageWriter(QPdfWriter& pdf, QPainter& painter) : pdf_(pdf), p_(painter) {
    const QRect r = pdf.pageLayout().paintRectPixels(kDpi);
    width_ = r.width();
    height_ = r.height() - footer_;
  }

  std::unique_ptr<QTextDocument> text(const std::string& html) {
    auto doc = std::make_unique<QTextDocument>();
    doc->documentLayout()->setPaintDevice(&pdf_);
    doc->setDefaultFont(QFont("DejaVu Sans", 9));
    doc->setDefaultStyleSheet(kStyle);
    doc->setDocumentMargin(0);
    doc->setHtml(QString::fromStdString(html));
    doc->setTextWidth(width_);
    return doc;
  }
  double height_of(const std::string& html) { return text(html)->size().height(); }

  void need(double h) {
    if (y_ > 0 && y_ + h > height_) new_page();
  }
  void draw(const std::string& html) {
    auto doc = text(html);
    const double h = doc->size().height();
    need(h);
    p_.save();
    p_.translate(0, y_);
    doc->drawContents(&p_);
    p_.restore();
    y_ += h + gap_;
  }
  // Items [0, n) rendered by `html(from, to)`; each page gets as many whole items as fit.
  void split(std::size_t n, const std::function<std::string(std::size_t, std::size_t)>& html) {
    std::size_t from = 0;
    while (from < n) {
      std::size_t to = from + 1;
      while (to < n && y_ + height_of(html(from, to + 1)) <= height_) ++to;
      if (y_ > 0 && y_ + height_of(html(from, to)) > height_) {
        new_page();
        continue;
      }
      draw(html(from, to));
      from = to;
    }
  }
  // A chart scaled to the text width, with its caption on the same page.
  void svg(const std::string& svg, double w, double h, const std::string& caption_html) {
    QSvgRenderer r(QByteArray::fromStdString(svg));
    const double dh = h * width_ / w;
    need(dh + gap_ / 2 + height_of(caption_html));
    r.render(&p_, QRectF(0, y_, width_, dh));
    y_ += dh + gap_ / 2;
    draw(caption_html);
  }
  // Keeps a heading on the page of what follows it.
  void keep_with_next(double h) { need(h); }
  void finish() { footer(); }

 private:
  void footer() {
    p_.save();
    p_.setPen(QColor("#888888"));
    p_.setFont(QFont("DejaVu Sans", 7));
    p_.drawText(QRectF(0, height_ + footer_ / 3, width_, footer_ / 2), Qt::AlignRight,
                QString("page %1").arg(page_));
    p_.restore();
  }
  void new_page() {
    footer();
    pdf_.newPage();
    ++page_;
    y_ = 0;
  }

  QPdfWriter& pdf_;
  QPainter& p_;
  double width_ = 0, height_ = 0, y_ = 0;
  double footer_ = 90, gap_ = 30;
  int page_ = 1;
};

}  // namespace

bool pdf_supported() { return true; }

Expected<std::string> to_pdf(const Document& d) {
  // Qt needs an application object for fonts; a face that has none (the command line) gets an offscreen one
  // for the duration of the call.
  std::unique_ptr<QGuiApplication> app;
  int argc = 3;
  char arg0[] = "clustersim", arg1[] = "-platform", arg2[] = "offscreen";
  char* argv[] = {arg0, arg1, arg2, nullptr};
  if (!QCoreApplication::instance()) app = std::make_unique<QGuiApplication>(argc, argv);

  QByteArray bytes;
  QBuffer buffer(&bytes);
  if (!buffer.open(QIODevice::WriteOnly)) return Error{ErrorCode::internal, "report", "cannot open a PDF buffer"};
  {
    QPdfWriter pdf(&buffer);
    pdf.setResolution(kDpi);
    pdf.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(16, 16, 16, 14),
                                  QPageLayout::Millimeter));
    pdf.setTitle(QString::fromStdString(d.title));
    pdf.setCreator("clustersim");
    QPainter painter;
    if (!painter.begin(&pdf)) return Error{ErrorCode::internal, "report", "cannot start the PDF painter"};
    PageWriter w(pdf, painter);
    w.draw("<h1>" + html_escape(d.title) + "</h1><p class=\"subtitle\">" + html_escape(d.subtitle) + "</p>");
    int figure = 0;
    for (std::size_t i = 0; i < d.blocks.size(); ++i) {
      const auto& b = d.blocks[i];
      switch (b.kind) {
        case BlockKind::heading: {
          const std::string h = "h" + std::to_string(std::clamp(b.level, 1, 6));
          const std::string html = "<" + h + ">" + html_escape(b.text) + "</" + h + ">";
          w.keep_with_next(w.height_of(html) + 400);  // a heading never ends a page
          w.draw(html);
          break;
        }
        case BlockKind::paragraph:
          w.draw("<p>" + html_escape(b.text) + "</p>");
          break;
        case BlockKind::bullets:
          w.split(b.items.size(), [&](std::size_t from, std::size_t to) {
            std::string h = "<ul>";
            for (std::size_t k = from; k < to; ++k) h += "<li>" + html_escape(b.items[k]) + "</li>";
            return h + "</ul>";
          });
          break;
        case BlockKind::table:
          w.split(b.table.rows.size(), [&](std::size_t from, std::size_t to) { return table_html(b.table, from, to); });
          break;
        case BlockKind::chart: {
          const std::string caption =
              "<p class=\"caption\">Figure " + std::to_string(++figure) + ": " + html_escape(b.text) + "</p>";
          w.svg(b.svg, b.svg_width, b.svg_height, caption);
          break;
        }
        case BlockKind::code: {
          std::vector<std::string> lines;
          std::size_t start = 0;
          while (start <= b.text.size()) {
            const auto nl = b.text.find('\n', start);
            lines.push_back(b.text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
            if (nl == std::string::npos) break;
            start = nl + 1;
          }
          // Wrapped monospace, so that long lines stay on the page.
          w.split(lines.size(), [&](std::size_t from, std::size_t to) {
            std::string h = "<p style=\"white-space: pre-wrap; font-family: 'DejaVu Sans Mono'; font-size: 7pt\">";
            for (std::size_t k = from; k < to; ++k) h += html_escape(lines[k]) + (k + 1 < to ? "\n" : "");
            return h + "</p>";
          });
          break;
        }
      }
    }
    w.finish();
    painter.end();
  }
  buffer.close();
  return std::string(bytes.constData(), static_cast<std::size_t>(bytes.size()));
}

#else

bool pdf_supported() { return false; }

Expected<std::string> to_pdf(const Document&) {
  return Error{ErrorCode::invalid_input, "-o",
               "this clustersim was built without Qt 6, so it cannot write PDF; write .html or .md instead "
               "(or install qt6-base-dev and qt6-svg-dev and rebuild)"};
}

#endif

}  // namespace clustersim::report
