#include "presets/calibration_json.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <set>

#include "common/format.hpp"
#include "hardware/collectives.hpp"
#include "presets/json_text.hpp"
#include "presets/scenario_json.hpp"
#include "presets/validation_runs.hpp"
#include "sim/analytical.hpp"
#include "sim/validation_stats.hpp"

namespace clustersim::presets {

using nlohmann::json;
using hardware::Calibration;
using hardware::Precision;
using hardware::SizeCurve;

namespace {

constexpr const char* kProfileSchema = "clustersim.calibration-profile/1";

std::string normalized(const std::string& s) {
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

double median(std::vector<double> v) { return sim::percentile(std::move(v), 0.5); }

// --- reading the "calibration" block ---------------------------------------------------------------

std::optional<Error> number_list(const json& j, const std::string& key, const std::string& path, std::vector<double>& out) {
  if (!j.contains(key)) return invalid(path + "." + key, "is required");
  const auto& v = j.at(key);
  if (!v.is_array()) return invalid(path + "." + key, std::string("expected a list of numbers, got ") + json_type_name(v));
  out.clear();
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_number())
      return invalid(path + "." + key + "[" + std::to_string(i) + "]", std::string("expected a number, got ") + json_type_name(v[i]));
    out.push_back(v[i].get<double>());
  }
  return std::nullopt;
}

std::optional<Error> check_keys(const json& j, const std::string& path, std::initializer_list<const char*> keys) {
  if (!j.is_object()) return invalid(path, std::string("expected an object, got ") + json_type_name(j));
  std::vector<std::string> known(keys.begin(), keys.end());
  for (const auto& [k, v] : j.items()) {
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    const auto near = closest_match(k, known);
    return invalid(path + "." + k, "unknown field" + (near.empty() ? std::string() : "; did you mean '" + near + "'?"));
  }
  return std::nullopt;
}

std::optional<Error> read_curve(const json& j, const std::string& path, const char* size_key, const char* value_key, SizeCurve& c) {
  if (auto e = check_keys(j, path, {size_key, value_key})) return e;
  if (auto e = number_list(j, size_key, path, c.size)) return e;
  if (auto e = number_list(j, value_key, path, c.value)) return e;
  if (c.size.size() != c.value.size())
    return invalid(path + "." + value_key, fmt::format("has {} values for {} sizes", c.value.size(), c.size.size()));
  return std::nullopt;
}

json curve_json(const SizeCurve& c, const char* size_key, const char* value_key) {
  return {{size_key, c.size}, {value_key, c.value}};
}

// --- reading a profile ----------------------------------------------------------------------------

// One profile entry's fields, with a warning naming the entry when one is missing or wrong.
class Entry {
 public:
  Entry(const json& j, std::string name, std::vector<std::string>& warnings) : j_(j), name_(std::move(name)), w_(warnings) {}
  bool ok() const { return ok_; }
  std::optional<double> positive(const char* key) {
    if (!ok_) return std::nullopt;
    if (!j_.is_object() || !j_.contains(key) || j_.at(key).is_null()) return fail(std::string(key) + " is missing");
    const auto& v = j_.at(key);
    if (!v.is_number()) return fail(std::string(key) + " is " + json_type_name(v) + ", not a number");
    const double d = v.get<double>();
    if (!(d > 0) || !std::isfinite(d)) return fail(std::string(key) + " must be positive, got " + json_shown(v));
    return d;
  }
  std::optional<std::string> text(const char* key) {
    if (!ok_) return std::nullopt;
    if (!j_.is_object() || !j_.contains(key) || !j_.at(key).is_string()) {
      fail(std::string(key) + " is missing or not a string");
      return std::nullopt;
    }
    return j_.at(key).get<std::string>();
  }
  std::optional<double> fail(const std::string& why) {
    if (ok_) w_.push_back(name_ + ": " + why + "; entry left out");
    ok_ = false;
    return std::nullopt;
  }

 private:
  const json& j_;
  std::string name_;
  std::vector<std::string>& w_;
  bool ok_ = true;
};

const json& section(const json& profile, const char* key, std::vector<std::string>& warnings) {
  static const json empty = json::array();
  if (!profile.contains(key) || profile.at(key).is_null()) return empty;
  if (!profile.at(key).is_array()) {
    warnings.push_back(std::string(key) + ": expected a list, got " + json_type_name(profile.at(key)) + "; section left out");
    return empty;
  }
  return profile.at(key);
}

// Strictly ascending sizes: points with the same size are merged (median time).
SizeCurve curve_of(std::vector<std::pair<double, double>> pts) {
  std::sort(pts.begin(), pts.end());
  SizeCurve c;
  for (std::size_t i = 0; i < pts.size();) {
    std::size_t j = i;
    std::vector<double> vals;
    while (j < pts.size() && pts[j].first == pts[i].first) vals.push_back(pts[j++].second);
    c.size.push_back(pts[i].first);
    c.value.push_back(median(vals));
    i = j;
  }
  return c;
}

}  // namespace

bool same_device(const std::string& a, const std::string& b) { return !a.empty() && normalized(a) == normalized(b); }

Expected<Calibration> calibration_from_json(const json& j, const std::string& path) {
  if (auto e = check_keys(j, path, {"device", "device_kind", "measured", "gemm", "memory_bound", "optimizer", "attention",
                                    "materialized_attention", "framework", "collectives"}))
    return *e;
  Calibration c;
  for (const char* key : {"device", "device_kind", "measured"}) {
    if (!j.contains(key)) continue;
    if (!j.at(key).is_string()) return invalid(path + "." + key, std::string("expected a string, got ") + json_type_name(j.at(key)));
  }
  c.device = j.value("device", std::string());
  c.device_kind = j.value("device_kind", std::string());
  c.measured = j.value("measured", std::string());
  if (j.contains("gemm")) {
    const auto& g = j.at("gemm");
    if (!g.is_array()) return invalid(path + ".gemm", std::string("expected a list of tables, got ") + json_type_name(g));
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::string p = path + ".gemm[" + std::to_string(i) + "]";
      if (auto e = check_keys(g[i], p, {"dtype", "m", "n", "k", "seconds"})) return *e;
      hardware::GemmTable t;
      if (!g[i].contains("dtype") || !g[i].at("dtype").is_string()) return invalid(p + ".dtype", "is required (a precision name)");
      const auto prec = hardware::parse_precision(g[i].at("dtype").get<std::string>());
      if (!prec) return invalid(p + ".dtype", "'" + g[i].at("dtype").get<std::string>() + "' is not one of fp32, tf32, bf16, fp16, fp8");
      t.precision = *prec;
      if (auto e = number_list(g[i], "m", p, t.m)) return *e;
      if (auto e = number_list(g[i], "n", p, t.n)) return *e;
      if (auto e = number_list(g[i], "k", p, t.k)) return *e;
      if (auto e = number_list(g[i], "seconds", p, t.seconds)) return *e;
      c.gemm.push_back(std::move(t));
    }
  }
  if (j.contains("memory_bound")) {
    json mb = j.at("memory_bound");
    json kernels;
    if (mb.is_object() && mb.contains("kernels")) {
      kernels = mb.at("kernels");
      mb.erase("kernels");
    }
    if (auto e = read_curve(mb, path + ".memory_bound", "bytes", "seconds", c.memory_bound)) return *e;
    if (!kernels.is_null()) {
      const std::string kp = path + ".memory_bound.kernels";
      if (!kernels.is_object()) return invalid(kp, std::string("expected an object of kernel: curve, got ") + json_type_name(kernels));
      for (const auto& [name, curve] : kernels.items()) {
        const auto kind = hardware::parse_memory_kernel(name);
        if (!kind || *kind == hardware::MemoryKernel::generic)
          return invalid(kp + "." + name, "not a kernel kind (copy, add, layernorm, rmsnorm, softmax, log_softmax, gelu, swiglu)");
        if (auto e = read_curve(curve, kp + "." + name, "bytes", "seconds", c.memory_kernels[static_cast<int>(*kind)])) return *e;
      }
    }
  }
  if (j.contains("optimizer"))
    if (auto e = read_curve(j.at("optimizer"), path + ".optimizer", "bytes", "seconds", c.optimizer)) return *e;
  if (j.contains("attention")) {
    const auto& a = j.at("attention");
    if (auto e = check_keys(a, path + ".attention", {"forward", "backward"})) return *e;
    if (a.contains("forward"))
      if (auto e = read_curve(a.at("forward"), path + ".attention.forward", "seq", "flops_per_s", c.attention_forward)) return *e;
    if (a.contains("backward"))
      if (auto e = read_curve(a.at("backward"), path + ".attention.backward", "seq", "flops_per_s", c.attention_backward)) return *e;
  }
  if (j.contains("materialized_attention")) {
    const auto& a = j.at("materialized_attention");
    const std::string ap = path + ".materialized_attention";
    if (auto e = check_keys(a, ap, {"head_dim", "forward", "backward"})) return *e;
    if (!a.contains("head_dim") || !a.at("head_dim").is_number()) return invalid(ap + ".head_dim", "is required (a number)");
    c.materialized_head_dim = a.at("head_dim").get<double>();
    if (a.contains("forward"))
      if (auto e = read_curve(a.at("forward"), ap + ".forward", "seq", "seconds_per_head", c.materialized_forward)) return *e;
    if (a.contains("backward"))
      if (auto e = read_curve(a.at("backward"), ap + ".backward", "seq", "seconds_per_head", c.materialized_backward)) return *e;
  }
  if (j.contains("framework")) {
    const auto& f = j.at("framework");
    const std::string fp = path + ".framework";
    if (auto e = check_keys(f, fp, {"per_layer_s", "per_step_s", "dispatch_per_layer_s", "points"})) return *e;
    for (auto [key, out] : {std::pair<const char*, double*>{"per_layer_s", &c.framework_per_layer},
                            {"per_step_s", &c.framework_per_step}, {"dispatch_per_layer_s", &c.framework_dispatch_per_layer}}) {
      if (!f.contains(key)) continue;
      if (!f.at(key).is_number()) return invalid(fp + "." + key, std::string("expected a number, got ") + json_type_name(f.at(key)));
      *out = f.at(key).get<double>();
    }
  }
  // "collectives" is a topology calibration list; the topology reader checks it where it is used.
  return hardware::validate_calibration(c, path);
}

Expected<CalibrationFit> fit_profile(const json& profile, const json& base, const std::string& name) {
  if (!profile.is_object()) return invalid("profile", std::string("expected a JSON object, got ") + json_type_name(profile));
  CalibrationFit fit;
  auto& W = fit.warnings;
  const std::string schema = profile.value("schema", std::string());
  if (schema != kProfileSchema)
    W.push_back("schema: '" + schema + "', this reader knows " + kProfileSchema + "; reading the fields it knows");
  if (!profile.contains("device") || !profile.at("device").is_object())
    return invalid("device", "is required: the measured device (kind, name)");
  const json& dev = profile.at("device");
  const std::string kind = dev.value("kind", std::string());
  const std::string dev_name = dev.contains("name") && dev.at("name").is_string() ? dev.at("name").get<std::string>() : "";
  if (kind != "cpu" && kind != "cuda") return invalid("device.kind", "must be \"cpu\" or \"cuda\", got " + json_shown(dev.value("kind", json())));
  if (dev_name.empty()) return invalid("device.name", "is required (the measured device's name)");

  // The profile must be of the device the preset describes.
  const std::string base_name = base.value("name", std::string("custom"));
  const bool base_cpu = base.value("vendor", std::string()) == "cpu";
  if (base_cpu && kind != "cpu")
    return invalid("device.kind", "the profile was measured on a " + kind + " device ('" + dev_name + "'), but --gpu " + base_name +
                                      " is a CPU preset: name the GPU preset it was measured on");
  if (!base_cpu) {
    if (kind == "cpu")
      return invalid("device.kind", "the profile was measured on a CPU ('" + dev_name + "'), but --gpu " + base_name +
                                        " is a GPU: use --gpu host-cpu (or another CPU preset)");
    const std::string model = normalized(base_name.substr(0, base_name.find('-')));
    if (normalized(dev_name).find(model) == std::string::npos)
      return invalid("device.name", "the profile was measured on '" + dev_name + "', which is not a " + base_name +
                                        " (the preset's model '" + model + "' is not in the name)");
  }
  if (dev.contains("memory_bytes") && dev.at("memory_bytes").is_number() && base.contains("hbm_capacity") && !base_cpu) {
    // Only a hint: presets give the device-reported total; a different memory size is another SKU.
    W.push_back(fmt::format("device.memory_bytes: measured device has {:.1f} GiB", dev.at("memory_bytes").get<double>() / kGiB));
  }

  Calibration cal;
  cal.device = dev_name;
  cal.device_kind = kind;
  cal.measured = fmt::format("{} (torch {}, {} threads)", profile.value("created", std::string("?")),
                             dev.contains("torch") && dev.at("torch").is_string() ? dev.at("torch").get<std::string>() : "?",
                             dev.contains("threads") && dev.at("threads").is_number() ? dev.at("threads").dump() : "?");
  auto peak_of = [&](Precision p) -> std::optional<double> {
    if (!base.contains("peak_flops") || !base.at("peak_flops").is_object()) return std::nullopt;
    const auto& pf = base.at("peak_flops");
    if (!pf.contains(hardware::to_string(p))) return std::nullopt;
    // Peaks are quantities ("989 TFLOP/s") or numbers; the GPU reader has checked them, read the number.
    const auto& v = pf.at(hardware::to_string(p));
    if (v.is_number()) return v.get<double>();
    if (v.is_string()) {
      const std::string s = v.get<std::string>();
      double x = std::strtod(s.c_str(), nullptr);
      if (s.find("PFLOP") != std::string::npos) x *= 1e15;
      else if (s.find("TFLOP") != std::string::npos) x *= 1e12;
      else if (s.find("GFLOP") != std::string::npos) x *= 1e9;
      return x;
    }
    return std::nullopt;
  };

  // --- GEMM grid per precision ---
  struct Point {
    double m, n, k, t;
  };
  std::map<Precision, std::vector<Point>> gemm_points;
  const json& gemm = section(profile, "gemm", W);
  for (std::size_t i = 0; i < gemm.size(); ++i) {
    Entry e(gemm[i], "gemm[" + std::to_string(i) + "]", W);
    const auto dtype = e.text("dtype");
    const auto m = e.positive("m"), n = e.positive("n"), k = e.positive("k"), t = e.positive("median_s");
    if (!e.ok()) continue;
    const auto prec = hardware::parse_precision(*dtype);
    if (!prec) { e.fail("dtype '" + *dtype + "' is not one of fp32, tf32, bf16, fp16, fp8"); continue; }
    const auto peak = peak_of(*prec);
    if (!peak) { e.fail("dtype " + *dtype + ": the preset " + base_name + " has no peak for it"); continue; }
    double batch = 1;
    if (gemm[i].contains("batch") && gemm[i].at("batch").is_number()) batch = std::max(1.0, gemm[i].at("batch").get<double>());
    const double achieved = 2.0 * *m * *n * *k * batch / *t;
    if (achieved > 1.5 * *peak) {
      e.fail(fmt::format("{:.3g} FLOP/s is {:.1f}x the preset's {} peak: another device or dtype", achieved, achieved / *peak, *dtype));
      continue;
    }
    if (achieved > *peak)
      W.push_back(fmt::format("gemm[{}]: {:.3g} FLOP/s exceeds the preset's {} peak {:.3g} (boost clocks?); kept", i, achieved, *dtype, *peak));
    gemm_points[*prec].push_back({*m * batch, *n, *k, *t});
  }
  json gemm_summary = json::array();
  for (auto& [prec, pts] : gemm_points) {
    hardware::GemmTable t;
    t.precision = prec;
    std::set<double> ms, ns, ks;
    for (const auto& p : pts) { ms.insert(p.m); ns.insert(p.n); ks.insert(p.k); }
    t.m.assign(ms.begin(), ms.end());
    t.n.assign(ns.begin(), ns.end());
    t.k.assign(ks.begin(), ks.end());
    std::map<std::tuple<double, double, double>, std::vector<double>> cell;
    for (const auto& p : pts) cell[{p.m, p.n, p.k}].push_back(p.t);
    int missing = 0;
    double best = 0;
    for (double m : t.m)
      for (double n : t.n)
        for (double k : t.k) {
          auto it = cell.find({m, n, k});
          if (it != cell.end()) {
            const double s = median(it->second);
            t.seconds.push_back(s);
            best = std::max(best, 2.0 * m * n * k / s);
            continue;
          }
          // A grid point without a measurement: the nearest measured shape (log distance), scaled to
          // this shape's FLOPs at that shape's throughput.
          ++missing;
          const Point* nearest = nullptr;
          double dist = 1e300;
          for (const auto& p : pts) {
            const double d = std::pow(std::log2(p.m / m), 2) + std::pow(std::log2(p.n / n), 2) + std::pow(std::log2(p.k / k), 2);
            if (d < dist) { dist = d; nearest = &p; }
          }
          t.seconds.push_back(nearest->t * (m * n * k) / (nearest->m * nearest->n * nearest->k));
        }
    if (missing > 0)
      W.push_back(fmt::format("gemm {}: {} of {} grid points not measured, filled from the nearest measured shape", hardware::to_string(prec),
                              missing, t.seconds.size()));
    const auto peak = *peak_of(prec);
    gemm_summary.push_back({{"dtype", hardware::to_string(prec)}, {"shapes", pts.size()},
                            {"grid", fmt::format("{} x {} x {}", t.m.size(), t.n.size(), t.k.size())},
                            {"range", fmt::format("{:g}..{:g} x {:g}..{:g} x {:g}..{:g}", t.m.front(), t.m.back(), t.n.front(),
                                                  t.n.back(), t.k.front(), t.k.back())},
                            {"best_flops_per_s", best}, {"best_share_of_peak", best / peak}});
    cal.gemm.push_back(std::move(t));
  }

  // --- GEMMs as a step runs them: right after a memory-bound kernel. The median ratio of isolated to
  // in-step time is the device's gemm_sustained (the share of the isolated GEMM speed a step keeps). ---
  std::vector<double> sustained;
  const json& inter = section(profile, "gemm_interleaved", W);
  for (std::size_t i = 0; i < inter.size(); ++i) {
    Entry e(inter[i], "gemm_interleaved[" + std::to_string(i) + "]", W);
    const auto alone = e.positive("gemm_s"), in_step = e.positive("in_step_s");
    if (!e.ok()) continue;
    sustained.push_back(std::min(1.0, *alone / *in_step));
  }
  std::optional<double> gemm_sustained;
  if (!sustained.empty()) gemm_sustained = median(sustained);

  // --- memory-bound kernels and the optimizer step ---
  std::map<double, std::vector<std::pair<double, double>>> by_elements;  // elements -> (bytes, seconds)
  std::map<hardware::MemoryKernel, std::vector<std::pair<double, double>>> by_kernel;
  std::vector<std::pair<double, double>> adam;
  std::set<std::string> kernels;
  const json& mem = section(profile, "memory_bound", W);
  for (std::size_t i = 0; i < mem.size(); ++i) {
    Entry e(mem[i], "memory_bound[" + std::to_string(i) + "]", W);
    const auto kernel = e.text("kernel");
    const auto elements = e.positive("elements"), bytes = e.positive("bytes"), t = e.positive("median_s");
    if (!e.ok()) continue;
    if (*kernel == "adam") {
      adam.emplace_back(*bytes, *t);
    } else {
      by_elements[*elements].emplace_back(*bytes, *t);
      kernels.insert(*kernel);
      if (auto kind = hardware::parse_memory_kernel(*kernel); kind && *kind != hardware::MemoryKernel::generic)
        by_kernel[*kind].emplace_back(*bytes, *t);
      else
        W.push_back("memory_bound[" + std::to_string(i) + "]: kernel '" + *kernel + "' has no curve of its own; counted in the median curve only");
    }
  }
  // At each size the median over kernel kinds of bytes and of bandwidth: one curve for every
  // memory-bound op of the cost model (its ops are not told apart by kind).
  std::vector<std::pair<double, double>> mem_pts;
  for (const auto& [elements, v] : by_elements) {
    std::vector<double> bytes, bw;
    for (const auto& [b, t] : v) { bytes.push_back(b); bw.push_back(b / t); }
    const double mb = median(bytes);
    mem_pts.emplace_back(mb, mb / median(bw));
  }
  json mem_summary = nullptr, opt_summary = nullptr;
  auto describe = [](const SizeCurve& c) {
    double best = 0;
    for (std::size_t i = 0; i < c.size.size(); ++i) best = std::max(best, c.size[i] / c.value[i]);
    return json{{"points", c.size.size()}, {"bytes_range", fmt::format("{:g}..{:g}", c.size.front(), c.size.back())},
                {"floor_s", c.value.front()}, {"best_bytes_per_s", best}};
  };
  for (const auto& [kind, pts] : by_kernel) cal.memory_kernels[static_cast<int>(kind)] = curve_of(pts);
  if (!mem_pts.empty()) {
    cal.memory_bound = curve_of(mem_pts);
    mem_summary = describe(cal.memory_bound);
    mem_summary["kernels"] = kernels;
  }
  if (!adam.empty()) {
    cal.optimizer = curve_of(adam);
    opt_summary = describe(cal.optimizer);
  }

  // --- fused attention (materialised runs are GEMMs + softmax, costed from those tables) ---
  std::vector<std::pair<double, double>> att_f, att_b;
  struct Materialized {
    double seq, head_dim, per_head;
    bool backward;
  };
  std::vector<Materialized> mat;
  int materialized = 0;
  const json& att = section(profile, "attention", W);
  for (std::size_t i = 0; i < att.size(); ++i) {
    Entry e(att[i], "attention[" + std::to_string(i) + "]", W);
    const auto impl = e.text("impl");
    const auto pass = e.text("pass");
    const auto seq = e.positive("seq"), flops = e.positive("flops"), t = e.positive("median_s");
    if (!e.ok()) continue;
    if (*pass != "forward" && *pass != "backward") { e.fail("pass '" + *pass + "' is not forward or backward"); continue; }
    if (*impl == "materialized") {
      const auto batch = e.positive("batch"), heads = e.positive("heads"), head_dim = e.positive("head_dim");
      if (!e.ok()) continue;
      ++materialized;
      mat.push_back({*seq, *head_dim, *t / (*batch * *heads), *pass == "backward"});
      continue;
    }
    (*pass == "forward" ? att_f : att_b).emplace_back(*seq, *flops / *t);
  }
  if (!att_f.empty()) cal.attention_forward = curve_of(att_f);
  if (!att_b.empty()) cal.attention_backward = curve_of(att_b);
  if (!mat.empty()) {
    // One head size (the most measured one) makes the curves; the cost model scales to others.
    std::map<double, int> dims;
    for (const auto& x : mat) ++dims[x.head_dim];
    const double d = std::max_element(dims.begin(), dims.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
    std::vector<std::pair<double, double>> f, b;
    for (const auto& x : mat)
      if (x.head_dim == d) (x.backward ? b : f).emplace_back(x.seq, x.per_head);
    cal.materialized_head_dim = d;
    if (!f.empty()) cal.materialized_forward = curve_of(f);
    if (!b.empty()) cal.materialized_backward = curve_of(b);
  }

  // --- collectives: busbw curves in the topology calibration format ---
  std::map<std::pair<std::string, int>, std::vector<std::pair<double, double>>> coll;
  const json& cs = section(profile, "collectives", W);
  for (std::size_t i = 0; i < cs.size(); ++i) {
    Entry e(cs[i], "collectives[" + std::to_string(i) + "]", W);
    const auto op = e.text("op");
    const auto ranks = e.positive("ranks"), bytes = e.positive("bytes"), busbw = e.positive("busbw");
    if (!e.ok()) continue;
    if (!hardware::parse_collective(*op)) { e.fail("op '" + *op + "' is not a collective this model knows"); continue; }
    coll[{*op, static_cast<int>(*ranks)}].emplace_back(*bytes, *busbw);
  }
  json collectives = json::array();
  for (const auto& [key, pts] : coll) {
    const SizeCurve c = curve_of(pts);
    json points = json::array();
    for (std::size_t i = 0; i < c.size.size(); ++i) points.push_back({{"size", c.size[i]}, {"busbw", c.value[i]}});
    collectives.push_back({{"op", key.first}, {"ranks", key.second}, {"ranks_per_node", key.second}, {"points", points}});
  }

  if (cal.gemm.empty() && cal.memory_bound.empty())
    return invalid("profile", "no usable GEMM or memory-bound measurement (" + std::to_string(W.size()) + " entries left out)");
  auto valid = hardware::validate_calibration(cal, "calibration");
  if (!valid) return valid.error();

  // --- the calibrated preset ---
  json block = {{"device", cal.device}, {"device_kind", cal.device_kind}, {"measured", cal.measured}};
  json tables = json::array();
  for (const auto& t : cal.gemm)
    tables.push_back({{"dtype", hardware::to_string(t.precision)}, {"m", t.m}, {"n", t.n}, {"k", t.k}, {"seconds", t.seconds}});
  block["gemm"] = tables;
  if (!cal.memory_bound.empty()) {
    block["memory_bound"] = curve_json(cal.memory_bound, "bytes", "seconds");
    json per_kernel = json::object();
    for (auto k : hardware::kAllMemoryKernels)
      if (!cal.memory_kernels[static_cast<int>(k)].empty())
        per_kernel[hardware::to_string(k)] = curve_json(cal.memory_kernels[static_cast<int>(k)], "bytes", "seconds");
    if (!per_kernel.empty()) block["memory_bound"]["kernels"] = per_kernel;
  }
  if (!cal.optimizer.empty()) block["optimizer"] = curve_json(cal.optimizer, "bytes", "seconds");
  if (!cal.attention_forward.empty() || !cal.attention_backward.empty()) {
    json a = json::object();
    if (!cal.attention_forward.empty()) a["forward"] = curve_json(cal.attention_forward, "seq", "flops_per_s");
    if (!cal.attention_backward.empty()) a["backward"] = curve_json(cal.attention_backward, "seq", "flops_per_s");
    block["attention"] = a;
  }
  if (!cal.materialized_forward.empty() || !cal.materialized_backward.empty()) {
    json a = {{"head_dim", cal.materialized_head_dim}};
    if (!cal.materialized_forward.empty()) a["forward"] = curve_json(cal.materialized_forward, "seq", "seconds_per_head");
    if (!cal.materialized_backward.empty()) a["backward"] = curve_json(cal.materialized_backward, "seq", "seconds_per_head");
    block["materialized_attention"] = a;
  }
  if (!collectives.empty()) block["collectives"] = collectives;

  json preset = base;
  if (gemm_sustained) {
    if (!preset.contains("efficiency") || !preset["efficiency"].is_object()) preset["efficiency"] = json::object();
    preset["efficiency"]["gemm_sustained"] = *gemm_sustained;
  }
  preset["name"] = name;
  preset.erase("aliases");  // the base's aliases stay the base's
  preset["description"] = base.value("description", base_name) + " — calibrated on '" + dev_name + "'";
  preset["calibration"] = block;
  if (!preset.contains("sources") || !preset["sources"].is_object()) preset["sources"] = json::object();
  preset["sources"]["calibration"] = "measured with tools/measure on '" + dev_name + "' " + cal.measured +
                                     "; fitted by clustersim calibrate from preset " + base_name;
  if (gemm_sustained)
    preset["sources"]["efficiency.gemm_sustained"] =
        fmt::format("measured: median over {} GEMM shapes of the isolated time / the time right after a memory-bound "
                    "kernel (profile gemm_interleaved), {:.3f}", sustained.size(), *gemm_sustained);
  // --- the framework's own time, from tiny measured steps (profile framework_steps) predicted with the
  // preset as calibrated so far: residual = measured - predicted, fitted as per_step + per_layer x L. ---
  json framework_summary = nullptr;
  const json& fw = section(profile, "framework_steps", W);
  if (!fw.empty()) {
    ValidateOptions opt;
    opt.calibrated_gpu = &preset;
    std::vector<std::pair<double, double>> resid, raw;  // (layers, seconds)
    for (std::size_t i = 0; i < fw.size(); ++i) {
      const std::string name = "framework_steps[" + std::to_string(i) + "]";
      auto mapped = record_scenario(fw[i], nullptr, opt);
      if (!mapped) { W.push_back(name + ": " + mapped.error().message + "; entry left out"); continue; }
      auto sc = scenario_from_json(*mapped);
      if (!sc) { W.push_back(name + ": " + sc.error().what() + "; entry left out"); continue; }
      const auto t = fw[i].contains("iteration_time_s") && fw[i]["iteration_time_s"].is_number()
                         ? fw[i]["iteration_time_s"].get<double>() : 0.0;
      if (!(t > 0)) { W.push_back(name + ": iteration_time_s must be positive; entry left out"); continue; }
      const double layers = sc->model.spec().layers;
      resid.emplace_back(layers, t - sim::estimate(*sc).iteration_time_s);
      raw.emplace_back(layers, t);
    }
    auto line = [](const std::vector<std::pair<double, double>>& pts) {  // least squares y = a + c x
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      const double n = static_cast<double>(pts.size());
      for (auto [x, y] : pts) { sx += x; sy += y; sxx += x * x; sxy += x * y; }
      const double den = n * sxx - sx * sx;
      const double c = den > 0 ? (n * sxy - sx * sy) / den : 0.0;
      return std::pair{(sy - c * sx) / n, c};
    };
    std::set<double> depths;
    for (auto [x, y] : resid) depths.insert(x);
    if (depths.size() >= 2) {
      const auto [a, c] = line(resid);
      const auto [a_raw, c_raw] = line(raw);
      cal.framework_per_layer = std::max(0.0, c);
      cal.framework_per_step = std::max(0.0, a);
      cal.framework_dispatch_per_layer = std::max(0.0, c_raw);
      preset["calibration"]["framework"] = {{"per_layer_s", cal.framework_per_layer}, {"per_step_s", cal.framework_per_step},
                                            {"dispatch_per_layer_s", cal.framework_dispatch_per_layer},
                                            {"points", resid.size()}};
      preset["sources"]["calibration.framework"] = fmt::format(
          "fitted from {} tiny measured steps (profile framework_steps, {:g}-{:g} layers): measured minus the "
          "calibrated prediction = {:.3g} s + {:.3g} s per layer; raw slope {:.3g} s per layer",
          resid.size(), *depths.begin(), *depths.rbegin(), cal.framework_per_step, cal.framework_per_layer,
          cal.framework_dispatch_per_layer);
      framework_summary = preset["calibration"]["framework"];
    } else if (!resid.empty()) {
      W.push_back("framework_steps: fewer than two depths measured; no framework overhead fitted");
    }
  }

  auto revalid = hardware::validate_calibration(cal, "calibration");
  if (!revalid) return revalid.error();
  fit.preset = preset;
  fit.calibration = *revalid;
  fit.summary = {{"device", dev_name}, {"device_kind", kind}, {"base", base_name}, {"name", name}, {"measured", cal.measured},
                 {"gemm", gemm_summary}, {"gemm_sustained", gemm_sustained ? json(*gemm_sustained) : json(nullptr)},
                 {"memory_bound", mem_summary}, {"optimizer", opt_summary},
                 {"attention", {{"fused_points", att_f.size() + att_b.size()}, {"materialized_runs", materialized}}},
                 {"collectives", collectives.size()}, {"framework", framework_summary}, {"warnings", W}};
  return fit;
}

}  // namespace clustersim::presets
