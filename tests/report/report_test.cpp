// The report writers: golden Markdown from hand-built inputs, escaping of user strings in every form,
// HTML charts, the PDF's pages, and the number formats budget owners read.
//
// The inputs are built by hand (no cost model, no presets) so that the golden files change only when the
// report's layout or wording does. Set CLUSTERSIM_UPDATE_GOLDEN=1 to rewrite them after an intended change.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "report/charts.hpp"
#include "report/text.hpp"
#include "report/writers.hpp"

using namespace clustersim;

namespace {

hardware::ClusterSpec test_cluster(int nodes) {
  hardware::GpuSpec g;
  g.name = "gpu-x";
  g.peak[static_cast<int>(hardware::Precision::bf16)] = teraflops(1000);
  g.hbm_capacity = gib(80);
  g.hbm_bandwidth = ByteRate(3e12);
  g.tdp = Watts(700);
  g.sm_count = 132;
  hardware::ClusterSpec c;
  c.name = "pod-x";
  c.gpu = g;
  c.gpus_per_node = 8;
  c.nodes = nodes;
  c.scale_up = {gigabytes_per_s(450), gigabytes_per_s(450), microseconds(3), 0.8, false};
  c.scale_out = {gigabytes_per_s(50), gigabytes_per_s(50), microseconds(5), 0.85, false};
  return c;
}

strategies::Scenario test_scenario(const std::string& model_name) {
  model::ModelSpec m;
  m.name = model_name;
  m.layers = 16;
  m.hidden = 2048;
  m.heads = 16;
  m.kv_heads = 16;
  m.ffn_hidden = 5632;
  m.mlp = model::MlpKind::swiglu;
  m.vocab = 32000;
  m.norm = model::NormKind::rmsnorm;
  auto model = model::validate_model(m);
  REQUIRE(model.has_value());
  strategies::TrainingSpec t;
  t.seq_length = 2048;
  t.global_batch = 64;
  t.tokens = 2e10;
  strategies::LayoutSpec l;
  l.tp = 2;
  l.pp = 2;
  l.sequence_parallel = true;
  l.zero = 1;
  l.recompute = strategies::Recompute::selective;
  auto sc = strategies::validate_scenario(*model, test_cluster(2), t, l);
  REQUIRE(sc.has_value());
  return *sc;
}

sim::Report test_report(const strategies::Scenario& sc, bool fits) {
  sim::Report r;
  r.iteration_time_s = 2.5;
  r.tokens_per_s = 64.0 * 2048.0 / 2.5;  // 52428.8
  r.tflops_per_gpu = 150;
  r.mfu = 0.45;
  r.hfu = 0.47;
  r.time.compute = Seconds(1.8);
  r.time.recompute = Seconds(0.1);
  r.time.bubble = Seconds(0.2);
  r.time.exposed_comm = Seconds(0.35);
  r.time.optimizer = Seconds(0.05);
  r.time.tp_comm = Seconds(0.4);
  r.time.pp_comm = Seconds(0.02);
  r.time.dp_comm = Seconds(0.3);
  r.gpus = sc.gpus;
  r.params_total = sc.model.total_params();
  for (int s = 0; s < 2; ++s) {
    strategies::StageMemory m;
    m.stage = s;
    m.weights = gib(1.5);
    m.gradients = gib(3.0);
    m.optimizer = gib(2.25);
    m.activations = gib(s == 0 ? 6.0 : 3.0);
    m.device_peak = gib(s == 0 ? (fits ? 14.75 : 95.0) : 11.75);
    r.memory.stages.push_back(m);
  }
  r.memory.peak_device = r.memory.stages[0].device_peak;
  r.memory.peak_stage = 0;
  r.memory.capacity = gib(80);
  r.memory.fits = fits;
  r.notes = {"attention FLOPs counted non-causal (full s x s), as Megatron-LM does"};
  return r;
}

report::ReportInputs test_inputs(bool priced, bool fits) {
  const auto sc = test_scenario("demo-1b <v2>");
  report::ReportInputs in{.scenario = sc, .report = test_report(sc, fits)};
  in.title = "Demo | *1B* run";
  in.generator = "clustersim test";
  in.source = "golden.json";
  in.scenario_json = "{\n  \"model\": \"demo-1b <v2>\"\n}";
  in.tokens_origin = "from the scenario";
  in.time_band = 0.2;  // fixed here, so that the golden files do not follow sim::kIterationTimeErrorP90
  if (priced) in.price = sim::Price{"test-price", 2.5, "2026-01-01", "on-demand", "Test cloud (8 x gpu-x)", "hand-made"};
  // 2e10 tokens / 52428.8 tokens/s = 381469.7 s on 16 GPUs.
  in.cost = sim::training_cost(16, 2e10 / 52428.8, Watts(700), in.price, in.energy);
  in.layouts.push_back({sc.layout, true, fits, 2.5, 52428.8, 0.45, in.report.memory.peak_device.value, in.cost});
  auto faster = sc.layout;
  faster.tp = 1;
  faster.pp = 1;
  faster.dp = 16;
  faster.sequence_parallel = false;
  faster.zero = 2;
  faster.recompute = strategies::Recompute::none;
  in.layouts.push_back({faster, false, true, 2.0, 65536, 0.56, 60 * kGiB,
                        sim::training_cost(16, 2e10 / 65536, Watts(700), in.price, in.energy)});
  in.sizes.push_back({1, 8, false, false, "no layout fits in memory: the smallest peak is 95 GiB per GPU, 80 GiB available",
                      {}, 0, 0, {}});
  in.sizes.push_back({2, 16, true, true, "", faster, 2.0, 0.56,
                      sim::training_cost(16, 2e10 / 65536, Watts(700), in.price, in.energy)});
  auto wider = faster;
  wider.dp = 32;
  in.sizes.push_back({4, 32, false, true, "", wider, 1.1, 0.51,
                      sim::training_cost(32, 2e10 / (65536 * 1.818), Watts(700), in.price, in.energy)});
  in.law.law_name = "chinchilla-epoch2024";
  in.law.law_title = "Chinchilla approach 3, Epoch AI refit (Besiroglu et al. 2024)";
  in.law.loss_law = "chinchilla-epoch2024";
  in.law.counting = "6ND";
  in.law.params = 1.0e9;
  in.law.tokens = 2e10;
  in.law.compute = 1.2e20;
  in.law.loss = 2.5766;
  in.law.optimum = sim::Allocation{1.15e9, 1.74e10, 1.2e20, 2.5751};
  in.law.frontier = {{1.2e19, 2.95}, {1.2e20, 2.5751}, {1.2e21, 2.33}};
  in.notes = {"Layout search: 120 layouts tried, 40 invalid, 10 out of memory."};
  return in;
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void check_golden(const std::string& text, const std::string& name) {
  const std::string path = std::string(CLUSTERSIM_SOURCE_DIR) + "/tests/data/report/" + name;
  if (const char* update = std::getenv("CLUSTERSIM_UPDATE_GOLDEN"); update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << text;
    WARN("rewrote " << path);
  }
  const std::string golden = read(path);
  INFO("golden file " << path << " (CLUSTERSIM_UPDATE_GOLDEN=1 rewrites it after an intended change)");
  REQUIRE_FALSE(golden.empty());
  // Line by line, so that a failure names the first line that differs.
  std::istringstream a(text), b(golden);
  std::string la, lb;
  int line = 0;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, la));
    const bool more_b = static_cast<bool>(std::getline(b, lb));
    ++line;
    if (!more_a && !more_b) break;
    INFO("line " << line);
    REQUIRE(la == lb);
  }
}

std::size_t occurrences(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (auto p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("Markdown report matches the golden file", "[report][golden]") {
  check_golden(report::to_markdown(report::build_document(test_inputs(true, true))), "golden.md");
}

TEST_CASE("Markdown report without a price, layout out of memory, matches the golden file", "[report][golden]") {
  check_golden(report::to_markdown(report::build_document(test_inputs(false, false))), "golden-unpriced.md");
}

TEST_CASE("The report's cost rows are the hand arithmetic", "[report]") {
  // 2e10 tokens at 52428.8 tokens/s = 381469.7 s = 4.415 days; x 16 GPUs / 3600 = 1695.42 GPU-hours;
  // x 2.5 $/GPU-hour = $4238.54; energy 16 x 0.7 kW x 105.964 h x 1.2 = 1424.2 kWh.
  const auto in = test_inputs(true, true);
  CHECK(in.cost.gpu_hours == Approx(1695.421).epsilon(1e-6));
  CHECK(in.cost.cost_usd == Approx(4238.55).epsilon(1e-6));
  CHECK(in.cost.energy_kwh == Approx(1424.154).epsilon(1e-6));
  const auto md = report::to_markdown(report::build_document(in));
  CHECK(md.find("| GPU-hours | 1,695 | 1,356 | 2,035 |") != std::string::npos);
  CHECK(md.find("| cost (USD) | $4,239 | $3,391 | $5,086 |") != std::string::npos);
}

TEST_CASE("User strings never become markup", "[report][escaping]") {
  auto in = test_inputs(true, true);
  in.title = "<script>alert('x')</script> & \"quotes\"";
  in.scenario_json = "{\"name\": \"</pre><script>alert(1)</script>\"}";
  in.notes.push_back("note with <b>tags</b> | pipes | *stars*");
  const auto doc = report::build_document(in);
  SECTION("HTML") {
    const auto html = report::to_html(doc);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("<b>tags") == std::string::npos);
    CHECK(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;") != std::string::npos);
    CHECK(html.find("demo-1b &lt;v2&gt;") != std::string::npos);
    CHECK(html.find("demo-1b <v2>") == std::string::npos);
  }
  SECTION("Markdown") {
    const auto md = report::to_markdown(doc);
    CHECK(md.find("\\<script\\>") != std::string::npos);
    CHECK(md.find("<script>alert('x')") == std::string::npos);
    CHECK(md.find("note with \\<b\\>tags\\</b\\> \\| pipes \\| \\*stars\\*") != std::string::npos);
  }
  SECTION("SVG text") {
    CHECK(report::xml_escape("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
    const auto chart = report::bars({{"<x>", 1.0}}, [](double) { return std::string("&"); }, 0);
    CHECK(chart.svg.find("&lt;x&gt;") != std::string::npos);
    CHECK(chart.svg.find(">&amp;<") != std::string::npos);
  }
}

TEST_CASE("HTML report is one self-contained page with five inline SVG charts", "[report][html]") {
  const auto html = report::to_html(report::build_document(test_inputs(true, true)));
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("</html>") != std::string::npos);
  CHECK(occurrences(html, "<svg ") == 5);
  CHECK(occurrences(html, "</svg>") == 5);
  CHECK(occurrences(html, "<figure>") == 5);
  CHECK(html.find("<link") == std::string::npos);  // nothing fetched from elsewhere
  CHECK(html.find("src=") == std::string::npos);
  CHECK(occurrences(html, "<h2>") == 10);
}

TEST_CASE("Report formats by extension", "[report]") {
  CHECK(report::format_for_path("a/b.md") == report::Format::markdown);
  CHECK(report::format_for_path("B.HTML") == report::Format::html);
  CHECK(report::format_for_path("x.htm") == report::Format::html);
  CHECK(report::format_for_path("x.pdf") == report::Format::pdf);
  CHECK_FALSE(report::format_for_path("x.txt").has_value());
  CHECK_FALSE(report::format_for_path("noext").has_value());
}

TEST_CASE("PDF report has pages, or says why there is none", "[report][pdf]") {
  const auto doc = report::build_document(test_inputs(true, true));
  auto pdf = report::to_pdf(doc);
  if (!report::pdf_supported()) {
    REQUIRE_FALSE(pdf.has_value());
    CHECK(pdf.error().message.find("without Qt 6") != std::string::npos);
    return;
  }
  REQUIRE(pdf.has_value());
  CHECK(pdf->rfind("%PDF-", 0) == 0);
  CHECK(pdf->find("%%EOF") != std::string::npos);
  // Five sections of tables and five vector charts do not fit on two A4 pages.
  CHECK(occurrences(*pdf, "/Type /Page\n") + occurrences(*pdf, "/Type /Page\r") + occurrences(*pdf, "/Type /Page ") >= 3);
}

TEST_CASE("Numbers as budget owners read them", "[report][text]") {
  CHECK(report::count(70.4e9) == "70.4B");
  CHECK(report::count(1.29e12) == "1.29T");
  CHECK(report::count(585e3) == "585k");
  CHECK(report::count(950) == "950");
  CHECK(report::scientific(5.88e23) == "5.88e23");
  CHECK(report::scientific(9.999e22) == "1e23");
  CHECK(report::money(1968123.4) == "$1,968,123");
  CHECK(report::money(842.5) == "$842.50");
  CHECK(report::grouped(1234567) == "1,234,567");
  CHECK(report::duration_days(23.44) == "23.4 days");
  CHECK(report::duration_days(0.25) == "6 hours");
  CHECK(report::energy(241000) == "241 MWh");
  CHECK(report::energy(845) == "845 kWh");
  CHECK(report::mass_co2(94100) == "94.1 t");
  CHECK(report::percent(0.413) == "41.3 %");
}
