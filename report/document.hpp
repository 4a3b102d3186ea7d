#pragma once
// The budget report: what goes into it (ReportInputs, computed by the caller), and the document it
// becomes (a list of headings, paragraphs, tables and SVG charts) that the Markdown, HTML and PDF writers
// render. Writers never compute: they format, so that a report is reproducible from its inputs and the
// golden tests can build the inputs by hand.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sim/budget.hpp"

namespace clustersim::report {

// One row of the layout comparison.
struct LayoutRow {
  strategies::LayoutSpec layout;
  bool is_scenario = false;     // the scenario's own layout
  bool fits = true;
  double iteration_time_s = 0;
  double tokens_per_s = 0;
  double mfu = 0;
  double peak_bytes = 0;
  sim::TrainingCost cost;
};

// One row of the cluster-size comparison (the best layout at that size).
struct SizeRow {
  int nodes = 0;
  int gpus = 0;
  bool is_scenario = false;
  bool feasible = false;
  std::string reason;           // when nothing fits
  strategies::LayoutSpec layout;
  double iteration_time_s = 0;
  double mfu = 0;
  sim::TrainingCost cost;
};

// Where the run sits against a scaling law: this plan's (N, D, C, loss), the compute-optimal point at the
// same compute, and the compute-optimal frontier (compute, loss) around it.
struct LawPosition {
  std::string law_name, law_title, loss_law, counting;
  double params = 0, tokens = 0, compute = 0, loss = 0;
  sim::Allocation optimum;
  std::vector<std::pair<double, double>> frontier;
};

struct ReportInputs {
  strategies::Scenario scenario;
  sim::Report report;                     // sim::estimate of the scenario
  std::string title;                      // e.g. the scenario's name
  std::string generator;                  // "clustersim 0.1.0"
  std::string source;                     // the scenario file
  std::string scenario_json;              // the scenario as given, pretty-printed (appendix)
  std::string tokens_origin;              // how training.tokens was chosen ("scenario", or the law)
  std::optional<sim::Price> price;
  sim::EnergyAssumptions energy;
  sim::TrainingCost cost;                 // of the scenario's layout
  std::vector<LayoutRow> layouts;         // the scenario's layout first, then the best found
  std::vector<SizeRow> sizes;
  LawPosition law;
  double time_band = sim::kIterationTimeErrorP90;  // relative p90 error of the run time
  std::vector<std::string> notes;
};

enum class BlockKind { heading, paragraph, bullets, table, chart, code };

struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> numeric;              // right-align the column
};

struct Block {
  BlockKind kind = BlockKind::paragraph;
  int level = 2;                          // headings
  std::string text;                       // heading, paragraph, code, chart caption
  std::vector<std::string> items;         // bullets
  Table table;
  std::string svg;                        // chart (self-contained SVG, every text escaped)
  double svg_width = 0, svg_height = 0;   // its size in CSS pixels
};

struct Document {
  std::string title;
  std::string subtitle;
  std::vector<Block> blocks;
};

// The report's sections in order: summary, scenario, cost, time, memory, layouts, cluster sizes,
// scaling-law position, uncertainty, assumptions, appendix.
Document build_document(const ReportInputs& in);

}  // namespace clustersim::report
