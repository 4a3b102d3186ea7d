#include <algorithm>
#include <cctype>

#include "report/writers.hpp"

namespace clustersim::report {

std::optional<Format> format_for_path(std::string_view path) {
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::string ext(path.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "md" || ext == "markdown") return Format::markdown;
  if (ext == "html" || ext == "htm") return Format::html;
  if (ext == "pdf") return Format::pdf;
  return std::nullopt;
}

bool has_header(const Table& t) {
  return std::any_of(t.header.begin(), t.header.end(), [](const std::string& h) { return !h.empty(); });
}

std::string markdown_escape(std::string_view s) {
  // CommonMark backslash escapes for the punctuation that starts emphasis, code, links, HTML or tables.
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    if (c == '\n' || c == '\r') {
      o += ' ';
      continue;
    }
    if (c == '\\' || c == '`' || c == '*' || c == '_' || c == '[' || c == ']' || c == '<' || c == '>' || c == '|' ||
        c == '#')
      o += '\\';
    o += c;
  }
  return o;
}

std::string to_markdown(const Document& d) {
  std::string out = "# " + markdown_escape(d.title) + "\n\n";
  if (!d.subtitle.empty()) out += "*" + markdown_escape(d.subtitle) + "*\n\n";
  int figure = 0;
  for (const auto& b : d.blocks) {
    switch (b.kind) {
      case BlockKind::heading:
        out += std::string(static_cast<std::size_t>(std::clamp(b.level, 1, 6)), '#') + " " + markdown_escape(b.text) + "\n\n";
        break;
      case BlockKind::paragraph:
        out += markdown_escape(b.text) + "\n\n";
        break;
      case BlockKind::bullets:
        for (const auto& i : b.items) out += "- " + markdown_escape(i) + "\n";
        out += "\n";
        break;
      case BlockKind::table: {
        const auto& t = b.table;
        auto row = [&](const std::vector<std::string>& cells) {
          std::string r = "|";
          for (const auto& c : cells) r += " " + markdown_escape(c) + " |";
          return r + "\n";
        };
        out += row(t.header);
        out += "|";
        for (std::size_t i = 0; i < t.header.size(); ++i)
          out += (i < t.numeric.size() && t.numeric[i]) ? " ---: |" : " --- |";
        out += "\n";
        for (const auto& r : t.rows) out += row(r);
        out += "\n";
        break;
      }
      case BlockKind::chart:
        out += "*Figure " + std::to_string(++figure) + ": " + markdown_escape(b.text) +
               " (chart in the HTML and PDF reports)*\n\n";
        break;
      case BlockKind::code: {
        std::string fence = "```";
        while (b.text.find(fence) != std::string::npos) fence += '`';
        out += fence + "json\n" + b.text + (b.text.empty() || b.text.back() == '\n' ? "" : "\n") + fence + "\n\n";
        break;
      }
    }
  }
  return out;
}

}  // namespace clustersim::report
