#pragma once
// The report's three forms. Markdown and HTML are text; the PDF is bytes (Qt's QPdfWriter, with the SVG
// charts drawn as vectors by QSvgRenderer) and exists only when clustersim was built with Qt 6. Writers
// escape every string they are given: nothing a user wrote is read as markup.
#include <optional>
#include <string>
#include <string_view>

#include "common/expected.hpp"
#include "report/charts.hpp"
#include "report/document.hpp"

namespace clustersim::report {

enum class Format { markdown, html, pdf };

// By the file's extension (.md / .markdown, .html / .htm, .pdf; case-insensitive).
std::optional<Format> format_for_path(std::string_view path);

std::string to_markdown(const Document& d);
std::string to_html(const Document& d);

// Whether this build writes PDF (Qt 6 found at configure time).
bool pdf_supported();
// The PDF's bytes; an error when PDF is not supported by this build.
Expected<std::string> to_pdf(const Document& d);

// Escapes for the two text forms (HTML text escapes as XML's does).
std::string markdown_escape(std::string_view s);
inline std::string html_escape(std::string_view s) { return xml_escape(s); }

// Whether a table has a header worth a row (Markdown always writes one; HTML and PDF skip an empty one).
bool has_header(const Table& t);

}  // namespace clustersim::report
