#include "strategies/plan.hpp"

#include <algorithm>
#include <cmath>

#include "strategies/costs.hpp"
#include "strategies/memory.hpp"

namespace clustersim::strategies {

using hardware::Collective;

const char* to_string(OpKind k) {
  switch (k) {
    case OpKind::forward: return "forward";
    case OpKind::backward: return "backward";
    case OpKind::backward_input: return "backward-input";
    case OpKind::weight_grad: return "weight-grad";
    case OpKind::recompute: return "recompute";
    case OpKind::optimizer: return "optimizer";
    case OpKind::tp_comm: return "tp-comm";
    case OpKind::pp_send: return "pp-send";
    case OpKind::grad_reduce: return "grad-reduce";
    case OpKind::param_gather: return "param-gather";
  }
  return "?";
}

const char* to_string(Stream s) {
  switch (s) {
    case Stream::compute: return "compute";
    case Stream::tp: return "tp-comm";
    case Stream::dp_gather: return "dp-gather";
    case Stream::dp_reduce: return "dp-reduce";
  }
  return "?";
}

const char* to_string(Part p) {
  switch (p) {
    case Part::layer: return "layer";
    case Part::embedding: return "embedding";
    case Part::head: return "head";
    case Part::stage: return "stage";
  }
  return "?";
}

int interleaved_group_size(int p, int m) {
  // Megatron-LM (schedules.py) accepts microbatch_group_size_per_vp_stage N in [p, m] whose remainder
  // m mod N is 0 or at least p (a smaller last group deadlocks the schedule); p by default. The smallest
  // such N; p when m <= p (a single, partial group, which Megatron rejects and which still completes).
  if (m <= p) return p;
  for (int n = p; n < m; ++n)
    if (m % n == 0 || m % n >= p) return n;
  return m;
}

std::vector<Pass> pass_order(Schedule schedule, int p, int r, int m, int v) {
  std::vector<Pass> out;
  const bool zb = schedule == Schedule::zero_bubble_h1;
  if (schedule != Schedule::interleaved_1f1b) v = 1;
  out.reserve(static_cast<std::size_t>(m) * v * (zb ? 3 : 2));
  if (p == 1 && schedule != Schedule::interleaved_1f1b) {
    // Gradient accumulation: micro-batches one after another (memory-modelling: one in flight).
    for (int i = 0; i < m; ++i) {
      out.push_back({'F', i, 0});
      out.push_back({'B', i, 0});
      if (zb) out.push_back({'W', i, 0});
    }
    return out;
  }
  switch (schedule) {
    case Schedule::gpipe:
      for (int i = 0; i < m; ++i) out.push_back({'F', i, 0});
      for (int i = 0; i < m; ++i) out.push_back({'B', i, 0});
      break;
    case Schedule::one_f_one_b:
    case Schedule::zero_bubble_h1: {
      // Warm-up of p - r - 1 forwards, then one forward and one backward, then the cool-down backwards.
      // ZB-H1 delays stage r's weight gradients by r passes, so they fill the cool-down bubble (Qi et al.
      // 2023 Fig. 3; PyTorch pipelining: W once `op - warmup_ops >= rank`): stage r holds (p - r) full
      // activations plus r weight-gradient inputs, at most p like 1F1B's first stage.
      const int w = std::min(p - r - 1, m);
      int next_w = 0;
      for (int i = 0; i < w; ++i) out.push_back({'F', i, 0});
      for (int i = 0; i < m - w; ++i) {
        out.push_back({'F', w + i, 0});
        out.push_back({'B', i, 0});
        if (zb && i >= r) out.push_back({'W', next_w++, 0});
      }
      for (int i = m - w; i < m; ++i) {
        out.push_back({'B', i, 0});
        if (zb) out.push_back({'W', next_w++, 0});
      }
      while (zb && next_w < m) out.push_back({'W', next_w++, 0});
      break;
    }
    case Schedule::interleaved_1f1b: {
      // Megatron-LM schedules.py: the schedule table runs groups of g micro-batches through chunk 0, then
      // chunk 1, ... (the last group may be smaller); backward visits chunks in reverse. Warm-up:
      // 2 (p - r - 1) + (v - 1) g chunk-passes, capped at m v.
      const int g = interleaved_group_size(p, m);
      std::vector<std::pair<int, int>> table;  // (micro-batch, chunk)
      table.reserve(static_cast<std::size_t>(m) * v);
      for (int start = 0; start < m; start += g) {
        const int end = std::min(start + g, m);
        for (int j = 0; j < v; ++j)
          for (int i = start; i < end; ++i) table.emplace_back(i, j);
      }
      const int total = m * v;
      const int warm = std::min(2 * (p - r - 1) + (v - 1) * g, total);
      auto fwd = [&](int k) { out.push_back({'F', table[k].first, table[k].second}); };
      auto bwd = [&](int k) { out.push_back({'B', table[k].first, v - 1 - table[k].second}); };
      for (int k = 0; k < warm; ++k) fwd(k);
      for (int k = 0; k < total - warm; ++k) {
        fwd(warm + k);
        bwd(k);
      }
      for (int k = total - warm; k < total; ++k) bwd(k);
      break;
    }
  }
  return out;
}

PlanCosts plan_costs(const Scenario& sc) {
  const auto& L = sc.layout;
  const auto& T = sc.training;
  const auto& ms = sc.model.spec();
  const int t = L.tp, p = L.pp;
  const double e = T.precision == Precision::fp32 ? 4.0 : 2.0;
  const double s = static_cast<double>(T.seq_length), b = L.micro_batch, h = static_cast<double>(ms.hidden);
  const double sp = L.sequence_parallel ? t : 1.0;
  const auto u = unit_costs(sc);
  const auto ranks = rank_costs(sc);
  const auto mem = memory_report(sc);
  const auto act = layer_activations(sc);

  PlanCosts c;
  c.layer_forward = u.layer_forward.time;
  c.layer_weight_grad = u.layer_backward.weight_grad_time;
  c.layer_backward_input = u.layer_backward.time - u.layer_backward.weight_grad_time;
  c.layer_recompute = u.layer_recompute;
  c.embedding_forward = u.embedding_forward.time;
  c.embedding_backward = u.embedding_backward.time;
  c.head_forward = u.head_forward.time;
  c.head_weight_grad = u.head_backward.weight_grad_time;
  c.head_backward_input = u.head_backward.time - u.head_backward.weight_grad_time;
  c.layer_tp = u.layer_tp_forward;
  c.layer_recompute_tp = u.layer_recompute_tp;
  c.embedding_tp = u.embedding_tp;
  c.head_tp = u.head_tp;
  c.pp_send = u.pp_send;
  c.layer_tp_exposed_share = u.layer_tp_exposed_share;

  // The collectives behind those times, as unit_costs() costs them (Korthikanti 2022 sec. 4.2.2): with
  // SP an all-gather and a reduce-scatter of the full activation around attention and around the MLP,
  // else two all-reduces; the vocab-parallel loss all-reduces 3 s b fp32 values.
  const double act_bytes = b * s * h * e;
  const double loss_bytes = 3.0 * s * b * 4.0;
  c.layer_tp_comm.group = c.embedding_tp_comm.group = c.head_tp_comm.group = CommGroup::tp;
  if (L.sequence_parallel) {
    c.layer_tp_comm.pieces = 4;
    c.layer_tp_comm.piece = {CommPiece{Collective::all_gather, act_bytes}, CommPiece{Collective::reduce_scatter, act_bytes},
                             CommPiece{Collective::all_gather, act_bytes}, CommPiece{Collective::reduce_scatter, act_bytes}};
    c.embedding_tp_comm.pieces = 1;
    c.embedding_tp_comm.piece[0] = {Collective::reduce_scatter, act_bytes};
    c.head_tp_comm.pieces = 2;
    c.head_tp_comm.piece[0] = {Collective::all_gather, act_bytes};
    c.head_tp_comm.piece[1] = {Collective::all_reduce, loss_bytes};
  } else {
    c.layer_tp_comm.pieces = 2;
    c.layer_tp_comm.piece[0] = c.layer_tp_comm.piece[1] = {Collective::all_reduce, act_bytes};
    c.embedding_tp_comm.pieces = 1;
    c.embedding_tp_comm.piece[0] = {Collective::all_reduce, act_bytes};
    c.head_tp_comm.pieces = 1;
    c.head_tp_comm.piece[0] = {Collective::all_reduce, loss_bytes};
  }
  c.pp_comm.group = CommGroup::pp_next;
  c.pp_comm.pieces = 1;
  c.pp_comm.piece[0] = {Collective::send_recv, u.pp_message_bytes};

  // Memory, term by term as memory_report() counts it (strategies/memory.cpp).
  c.layer_stored = act.stored;
  c.layer_full = act.full;
  if (L.recompute == Recompute::full) c.recompute_extra = act.full - act.stored;
  if (L.recompute == Recompute::selective) c.recompute_extra = act.quadratic;
  c.grad_transient = 2.0 * e * s * b * h / sp;  // a layer's input and output gradients during its backward
  c.embedding_stored = 8.0 * s * b + (ms.dropout ? s * b * h / sp : 0.0);  // int64 ids + dropout mask
  c.head_stored = e * s * b * h / sp;  // final-norm input
  c.logits = mem.stages.back().logits.value;
  // ZB-H1: W needs each GEMM's input (Korthikanti 2022 Table 2 terms): the QKV and MLP-up inputs (norm
  // outputs, sharded by SP), the out-projection input (attention output) and the MLP-down input.
  const double q_ratio = static_cast<double>(sc.model.q_width()) / h;
  const double f = static_cast<double>(ms.ffn_hidden);
  c.weight_grad_keep = e * s * b * h * (2.0 / sp + q_ratio / t) + e * s * b * f / t;

  const double wb = T.precision == Precision::fp32 ? 4.0 : 2.0;
  const double gb = (T.precision == Precision::fp32 || T.grad_precision == GradPrecision::fp32) ? 4.0 : 2.0;
  c.weight_bytes = wb;
  c.grad_bytes = gb;
  c.layer_params = layer_params_per_gpu(sc);
  for (int r = 0; r < p; ++r) {
    const auto& sm = mem.stages[r];
    c.optimizer.push_back(ranks[r].optimizer);
    c.recomputed_layers.push_back(recomputed_layers(sc, sc.stages[r].layers()));
    c.static_bytes.push_back(sm.weights.value + sm.gradients.value + sm.optimizer.value + sm.workspace.value);
    c.stage_params.push_back(sm.params);
    // The optimizer's fp32 copy of its gradient shard when gradients are kept in 16 bits (memory.cpp).
    const double shard_opt = L.zero >= 1 ? L.dp : 1.0;
    c.optimizer_extra.push_back((T.precision == Precision::fp16 || gb < 4.0) ? sm.params * 4.0 / shard_opt : 0.0);
  }
  return c;
}

namespace {

constexpr std::uint32_t kNoOp = 0xffffffffu;

// Builds one stage's program. Cross-stage dependencies (PP transfers) are added by lower() once every
// stage exists.
class StageBuilder {
 public:
  StageBuilder(const Scenario& sc, const PlanCosts& c, Plan& plan, int r) : sc_(sc), c_(c), plan_(plan), r_(r) {
    const auto& L = sc.layout;
    p_ = L.pp;
    v_ = plan.virtual_stages;
    t_ = L.tp;
    d_ = L.dp;
    zb_ = L.schedule == Schedule::zero_bubble_h1;
    tp_overlap_ = L.tp_comm_overlap && t_ > 1;
    zero3_ = L.zero >= 3 && d_ > 1;
    keep_unsharded_ = zero3_ && fsdp_keeps_unsharded(sc);
    st_ = &plan.stages[r];
    st_->stage = r;
    st_->static_bytes = c.static_bytes[r];
    const auto& split = sc.stages[r];
    int before = 0;
    for (int j = 0; j < v_; ++j) {
      Chunk ch;
      ch.layers = split.chunk_layers[j];
      ch.first_layer = before;
      ch.has_embedding = r == 0 && j == 0;
      ch.has_head = r == p_ - 1 && j == v_ - 1;
      ch.units = ch.layers + ch.has_embedding + ch.has_head;
      ch.last_grad.assign(ch.units, kNoOp);
      ch.first_forward.assign(ch.units, kNoOp);
      ch.gathered.assign(ch.units, 0);
      before += ch.layers;
      chunks_.push_back(ch);
    }
    // Parameters of the embedding and head units: what the stage holds beyond its layers.
    extra_params_ = std::max(0.0, c.stage_params[r] - split.layers() * c.layer_params);
    // Communication specs used by this stage.
    tp_full_ = comm(c.layer_tp_comm, 1.0);
    layer_exposed_ = tp_overlap_ ? c.layer_tp_exposed_share : 1.0;
    tp_hidden_ = comm(c.layer_tp_comm, 1.0 - layer_exposed_);
    tp_exposed_ = comm(c.layer_tp_comm, layer_exposed_);
    emb_full_ = comm(c.embedding_tp_comm, 1.0);
    emb_hidden_ = comm(c.embedding_tp_comm, (t_ - 1.0) / t_);
    emb_exposed_ = comm(c.embedding_tp_comm, 1.0 / t_);
    head_full_ = comm(c.head_tp_comm, 1.0);
    head_hidden_ = comm(c.head_tp_comm, (t_ - 1.0) / t_);
    head_exposed_ = comm(c.head_tp_comm, 1.0 / t_);
    CommSpec next = c.pp_comm, prev = c.pp_comm;
    next.group = CommGroup::pp_next;
    prev.group = CommGroup::pp_prev;
    pp_next_ = comm(next, 1.0);
    pp_prev_ = comm(prev, 1.0);
  }

  // Emits the passes; returns, per (micro-batch, chunk), the first op and the send op of its forward
  // and backward passes (kNoOp where none).
  struct PassOps {
    std::uint32_t first = kNoOp, send = kNoOp;
  };
  void build(std::vector<PassOps>& fwd, std::vector<PassOps>& bwd) {
    const int m = plan_.micro_batches;
    for (const auto& ps : pass_order(plan_.schedule, p_, r_, m, v_)) {
      const std::size_t key = static_cast<std::size_t>(ps.micro_batch) * v_ + ps.chunk;
      if (ps.type == 'F') fwd[key] = forward(ps.micro_batch, ps.chunk);
      else if (ps.type == 'B') bwd[key] = backward(ps.micro_batch, ps.chunk);
      else weight_grads(ps.micro_batch, ps.chunk);
    }
    data_parallel_and_optimizer();
  }

  void add_dep(std::uint32_t op, int stage, std::uint32_t on, DepKind kind = DepKind::finish) {
    raw_.push_back({op, OpDep{stage, on, kind}});
  }

  // Sorts the collected dependencies into the program (each op's dependencies contiguous).
  void finish() {
    auto& ops = st_->ops;
    std::vector<std::uint32_t> count(ops.size() + 1, 0);
    for (const auto& [idx, d] : raw_) ++count[idx + 1];
    for (std::size_t i = 0; i < ops.size(); ++i) count[i + 1] += count[i];
    st_->deps.resize(raw_.size());
    std::vector<std::uint32_t> pos(count.begin(), count.end() - 1);
    for (const auto& [idx, d] : raw_) st_->deps[pos[idx]++] = d;
    for (std::size_t i = 0; i < ops.size(); ++i) {
      ops[i].first_dep = count[i];
      ops[i].deps = count[i + 1] - count[i];
    }
  }

 private:
  struct Chunk {
    int layers = 0, first_layer = 0, units = 0;
    bool has_embedding = false, has_head = false;
    std::vector<std::uint32_t> last_grad;      // per unit: the op that completes its gradient (latest)
    std::vector<std::uint32_t> first_forward;  // per unit: its first forward op
    std::vector<char> gathered;                // per unit: parameters already gathered (FSDP + PP keeps them)
  };

  std::int32_t comm(CommSpec spec, double scale) {
    spec.scale = scale;
    plan_.comms.push_back(spec);
    return static_cast<std::int32_t>(plan_.comms.size() - 1);
  }

  std::uint32_t emit(PlanOp op) {
    st_->ops.push_back(op);
    return static_cast<std::uint32_t>(st_->ops.size() - 1);
  }

  PlanOp op(OpKind kind, Stream stream, Part part, int mb, int chunk, int layer, double duration) const {
    PlanOp o;
    o.kind = kind;
    o.stream = stream;
    o.part = part;
    o.micro_batch = mb;
    o.chunk = static_cast<std::int16_t>(chunk);
    o.layer = static_cast<std::int16_t>(layer);
    o.duration = duration;
    return o;
  }

  // Unit u of a chunk in forward order: [embedding], layers, [head].
  Part part_of(const Chunk& ch, int u) const {
    if (ch.has_embedding && u == 0) return Part::embedding;
    if (ch.has_head && u == ch.units - 1) return Part::head;
    return Part::layer;
  }
  int layer_of(const Chunk& ch, int u) const { return u - (ch.has_embedding ? 1 : 0); }
  double unit_params(const Chunk& ch, int u) const {
    switch (part_of(ch, u)) {
      case Part::layer: return c_.layer_params;
      case Part::embedding: return extra_params_;
      case Part::head: return chunks_.front().has_embedding ? 0.0 : extra_params_;  // tied copy sits with the embedding
      case Part::stage: break;
    }
    return 0.0;
  }
  bool recomputed(const Chunk& ch, int layer) const {
    return ch.first_layer + layer < c_.recomputed_layers[r_];
  }
  double stored(const Chunk& ch, int layer) const { return recomputed(ch, layer) ? c_.layer_stored : c_.layer_full; }
  double recompute_extra(const Chunk& ch, int layer) const { return recomputed(ch, layer) ? c_.recompute_extra : 0.0; }

  // TP collectives after compute op `x`: inline, or a hidden part on the TP stream that starts with `x`
  // and an exposed 1/t on the compute stream that waits for it (Wang et al. 2022: the collective is split
  // into t chunks pipelined with the GEMM; the first stays exposed).
  void tp_after(std::uint32_t x, Seconds time, Part part, int mb, int chunk, int layer) {
    if (t_ <= 1 || time.value <= 0) return;
    std::int32_t full = tp_full_, hidden = tp_hidden_, exposed = tp_exposed_;
    if (part == Part::embedding) {
      full = emb_full_;
      hidden = emb_hidden_;
      exposed = emb_exposed_;
    } else if (part == Part::head) {
      full = head_full_;
      hidden = head_hidden_;
      exposed = head_exposed_;
    }
    if (!tp_overlap_) {
      auto o = op(OpKind::tp_comm, Stream::compute, part, mb, chunk, layer, time.value);
      o.comm = full;
      emit(o);
      return;
    }
    // A layer's collectives keep the share their GEMMs cannot hide (unit_costs); the embedding's and
    // head's the first of t chunks.
    const double exposed_share = part == Part::layer ? layer_exposed_ : 1.0 / t_;
    auto h = op(OpKind::tp_comm, Stream::tp, part, mb, chunk, layer, time.value * (1.0 - exposed_share));
    h.comm = hidden;
    const auto hid = emit(h);
    add_dep(hid, r_, x, DepKind::start);
    auto e = op(OpKind::tp_comm, Stream::compute, part, mb, chunk, layer, time.value * exposed_share);
    e.comm = exposed;
    const auto ex = emit(e);
    add_dep(ex, r_, hid);
  }

  // ZeRO-3 parameter gathers for the units of one pass (in pass order): on the DP stream, each
  // prefetched while the previous unit computes; or inline before each unit. Returns one per unit.
  std::vector<std::uint32_t> gathers_for(Chunk& ch, const std::vector<int>& units, int mb, int chunk) {
    std::vector<std::uint32_t> g(units.size(), kNoOp);
    if (!zero3_ || !sc_.layout.overlap_param_gather) return g;
    for (std::size_t k = 0; k < units.size(); ++k) {
      const double params = unit_params(ch, units[k]);
      if (params <= 0 || !first_gather_of(ch, units[k])) continue;
      const Bytes bytes(params * c_.weight_bytes);
      auto o = op(OpKind::param_gather, Stream::dp_gather, part_of(ch, units[k]), mb, chunk, layer_of(ch, units[k]),
                  dp_time(Collective::all_gather, bytes));
      o.alloc = keep_unsharded_ ? 0.0 : bytes.value;  // kept parameters are part of the static bytes
      o.comm = dp_comm(Collective::all_gather, bytes.value);
      g[k] = emit(o);
    }
    return g;
  }
  // The inline variant (no overlap): a gather on the compute stream right before the unit.
  std::uint32_t inline_gather(Chunk& ch, int u, int mb, int chunk) {
    if (!zero3_ || sc_.layout.overlap_param_gather) return kNoOp;
    const double params = unit_params(ch, u);
    if (params <= 0 || !first_gather_of(ch, u)) return kNoOp;
    const Bytes bytes(params * c_.weight_bytes);
    auto o = op(OpKind::param_gather, Stream::compute, part_of(ch, u), mb, chunk, layer_of(ch, u),
                dp_time(Collective::all_gather, bytes));
    o.alloc = keep_unsharded_ ? 0.0 : bytes.value;
    o.comm = dp_comm(Collective::all_gather, bytes.value);
    return emit(o);
  }
  // Whether a unit's parameters must be gathered now: always, unless FSDP under PP already holds them.
  bool first_gather_of(Chunk& ch, int u) {
    if (!keep_unsharded_) return true;
    if (ch.gathered[u]) return false;
    ch.gathered[u] = 1;
    return true;
  }
  // ZeRO-3 gradient reduce-scatter after the op that produced a unit's gradient.
  void reduce_scatter_after(std::uint32_t x, const Chunk& ch, int u, int mb, int chunk) {
    if (!zero3_) return;
    if (keep_unsharded_ && mb != plan_.micro_batches - 1) return;  // accumulated until the last backward
    const double params = unit_params(ch, u);
    if (params <= 0) return;
    const Bytes bytes(params * c_.grad_bytes);
    if (!keep_unsharded_) st_->ops[x].alloc += bytes.value;  // the unsharded gradient, until reduce-scattered
    auto o = op(OpKind::grad_reduce, sc_.layout.overlap_grad_reduce ? Stream::dp_reduce : Stream::compute,
                part_of(ch, u), mb, chunk, layer_of(ch, u), dp_time(Collective::reduce_scatter, bytes));
    o.release = keep_unsharded_ ? 0.0 : bytes.value;
    o.comm = dp_comm(Collective::reduce_scatter, bytes.value);
    const auto rs = emit(o);
    add_dep(rs, r_, x);
  }

  double dp_time(Collective kind, Bytes bytes) const {
    const auto shape = hardware::group_shape(sc_.cluster, d_, t_ * sc_.layout.cp);
    return hardware::collective_cost(sc_.cluster, kind, bytes, shape).time.value;
  }
  std::int32_t dp_comm(Collective kind, double bytes) {
    CommSpec s;
    s.group = CommGroup::dp;
    s.pieces = 1;
    s.piece[0] = {kind, bytes};
    // Reuse the last identical spec (ZeRO-3 emits the same few thousands of times).
    for (std::size_t i = dp_specs_.size(); i-- > 0;) {
      const auto& q = plan_.comms[dp_specs_[i]];
      if (q.piece[0].op == kind && q.piece[0].bytes == bytes) return dp_specs_[i];
    }
    plan_.comms.push_back(s);
    dp_specs_.push_back(static_cast<std::int32_t>(plan_.comms.size() - 1));
    return dp_specs_.back();
  }

  PassOps forward(int mb, int j) {
    auto& ch = chunks_[j];
    PassOps out;
    std::vector<int> units(ch.units);
    for (int k = 0; k < ch.units; ++k) units[k] = k;
    const auto g = gathers_for(ch, units, mb, j);
    std::uint32_t prev_x = kNoOp;
    for (int k = 0; k < ch.units; ++k) {
      const int u = units[k];
      const Part part = part_of(ch, u);
      const int layer = layer_of(ch, u);
      const auto ig = inline_gather(ch, u, mb, j);
      if (out.first == kNoOp && ig != kNoOp) out.first = ig;
      PlanOp o;
      Seconds tp;
      switch (part) {
        case Part::embedding:
          o = op(OpKind::forward, Stream::compute, part, mb, j, -1, c_.embedding_forward.value);
          o.alloc = c_.embedding_stored;
          tp = c_.embedding_tp;
          break;
        case Part::head:
          o = op(OpKind::forward, Stream::compute, part, mb, j, -1, c_.head_forward.value);
          o.alloc = c_.head_stored + c_.logits;
          tp = c_.head_tp;
          break;
        default:
          o = op(OpKind::forward, Stream::compute, part, mb, j, layer, c_.layer_forward.value);
          o.alloc = stored(ch, layer);
          tp = c_.layer_tp;
          break;
      }
      const double gathered = g[k] != kNoOp ? st_->ops[g[k]].alloc : (ig != kNoOp ? st_->ops[ig].alloc : 0.0);
      o.release += gathered;  // the gathered parameters go once the unit has run
      const auto x = emit(o);
      if (out.first == kNoOp) out.first = x;
      if (g[k] != kNoOp) {
        add_dep(x, r_, g[k]);
        if (k > 0 && prev_x != kNoOp) add_dep(g[k], r_, prev_x, DepKind::start);  // prefetch one ahead
      }
      if (ig != kNoOp) add_dep(x, r_, ig);
      if (ch.first_forward[u] == kNoOp) ch.first_forward[u] = x;
      tp_after(x, tp, part, mb, j, layer);
      prev_x = x;
    }
    const int vs = j * p_ + r_;
    if (vs < p_ * v_ - 1) {
      auto s = op(OpKind::pp_send, Stream::compute, Part::stage, mb, j, -1, c_.pp_send.value);
      s.comm = pp_next_;
      out.send = emit(s);
    }
    return out;
  }

  PassOps backward(int mb, int j) {
    auto& ch = chunks_[j];
    PassOps out;
    std::vector<int> units(ch.units);
    for (int k = 0; k < ch.units; ++k) units[k] = ch.units - 1 - k;
    const auto g = gathers_for(ch, units, mb, j);
    std::uint32_t prev_x = kNoOp;
    const OpKind kind = zb_ ? OpKind::backward_input : OpKind::backward;
    for (std::size_t k = 0; k < units.size(); ++k) {
      const int u = units[k];
      const Part part = part_of(ch, u);
      const int layer = layer_of(ch, u);
      // ZeRO-3 without overlap gathers the unit's parameters first (its recomputation needs them too).
      const auto ig = inline_gather(ch, u, mb, j);
      std::uint32_t first_here = ig;
      PlanOp o;
      Seconds tp;
      switch (part) {
        case Part::embedding:
          // The embedding's backward is all weight gradient; it runs whole here, also under ZB-H1.
          o = op(kind, Stream::compute, part, mb, j, -1, c_.embedding_backward.value);
          o.release = c_.embedding_stored;
          break;
        case Part::head:
          o = op(kind, Stream::compute, part, mb, j, -1,
                 (c_.head_backward_input + (zb_ ? Seconds(0) : c_.head_weight_grad)).value);
          o.release = c_.head_stored + c_.logits;
          tp = c_.head_tp;
          break;
        default: {
          const double rex = recompute_extra(ch, layer);
          if (recomputed(ch, layer) && (c_.layer_recompute.value > 0 || rex > 0)) {
            auto rc = op(OpKind::recompute, Stream::compute, part, mb, j, layer, c_.layer_recompute.value);
            rc.alloc = rex;
            const auto x = emit(rc);
            if (first_here == kNoOp) first_here = x;
            if (g[k] != kNoOp) add_dep(x, r_, g[k]);
            tp_after(x, c_.layer_recompute_tp, part, mb, j, layer);
          }
          o = op(kind, Stream::compute, part, mb, j, layer,
                 (c_.layer_backward_input + (zb_ ? Seconds(0) : c_.layer_weight_grad)).value);
          o.alloc = c_.grad_transient;
          const double held = stored(ch, layer) + rex;
          o.release = c_.grad_transient + held - (zb_ ? std::min(c_.weight_grad_keep, held) : 0.0);
          tp = c_.layer_tp;
          break;
        }
      }
      const double gathered = g[k] != kNoOp ? st_->ops[g[k]].alloc : (ig != kNoOp ? st_->ops[ig].alloc : 0.0);
      o.release += gathered;
      const auto x = emit(o);
      if (first_here == kNoOp) first_here = x;
      if (out.first == kNoOp) out.first = first_here;
      if (g[k] != kNoOp) {
        add_dep(x, r_, g[k]);
        if (k > 0 && prev_x != kNoOp) add_dep(g[k], r_, prev_x, DepKind::start);
      }
      if (ig != kNoOp) add_dep(x, r_, ig);
      tp_after(x, tp, part, mb, j, layer);
      if (!zb_ || part == Part::embedding) {
        ch.last_grad[u] = x;
        reduce_scatter_after(x, ch, u, mb, j);
      }
      prev_x = x;
    }
    const int vs = j * p_ + r_;
    if (vs > 0) {
      auto s = op(OpKind::pp_send, Stream::compute, Part::stage, mb, j, -1, c_.pp_send.value);
      s.comm = pp_prev_;
      out.send = emit(s);
    }
    return out;
  }

  // ZB-H1's W pass: the weight gradients of the chunk's layers and head, in backward order.
  void weight_grads(int mb, int j) {
    auto& ch = chunks_[j];
    for (int u = ch.units - 1; u >= 0; --u) {
      const Part part = part_of(ch, u);
      if (part == Part::embedding) continue;
      const int layer = layer_of(ch, u);
      PlanOp o;
      if (part == Part::head) {
        o = op(OpKind::weight_grad, Stream::compute, part, mb, j, -1, c_.head_weight_grad.value);
      } else {
        o = op(OpKind::weight_grad, Stream::compute, part, mb, j, layer, c_.layer_weight_grad.value);
        o.release = std::min(c_.weight_grad_keep, stored(ch, layer) + recompute_extra(ch, layer));
      }
      const auto x = emit(o);
      ch.last_grad[u] = x;
      reduce_scatter_after(x, ch, u, mb, j);
    }
  }

  // DP buckets (ZeRO 0-2) and the optimizer step.
  void data_parallel_and_optimizer() {
    const auto& L = sc_.layout;
    struct Bucket {
      double params = 0;
      std::vector<std::pair<int, int>> units;  // (chunk, unit)
    };
    std::vector<Bucket> buckets;
    if (d_ > 1 && L.zero < 3) {
      // Megatron DDP fills buckets in backward order, one buffer per model chunk.
      const double cap = dp_bucket_params(d_);
      for (int j = v_ - 1; j >= 0; --j) {
        Bucket cur;
        for (int u = chunks_[j].units - 1; u >= 0; --u) {
          cur.params += unit_params(chunks_[j], u);
          cur.units.emplace_back(j, u);
          if (cur.params >= cap) {
            buckets.push_back(std::move(cur));
            cur = Bucket{};
          }
        }
        if (!cur.units.empty()) {
          if (cur.params > 0 || buckets.empty()) buckets.push_back(std::move(cur));
          else for (auto& x : cur.units) buckets.back().units.push_back(x);
        }
      }
    }
    const Collective reduce = L.zero >= 1 ? Collective::reduce_scatter : Collective::all_reduce;
    auto gather_op = [&](const Bucket& bk, Stream stream) {
      const Bytes bytes(bk.params * c_.weight_bytes);
      auto o = op(OpKind::param_gather, stream, Part::stage, -1, bk.units.front().first, -1,
                  dp_time(Collective::all_gather, bytes));
      o.comm = dp_comm(Collective::all_gather, bytes.value);
      return emit(o);
    };
    // ZeRO >= 1 with overlap: this iteration's parameters arrive bucket by bucket in forward order.
    if (L.zero >= 1 && L.overlap_param_gather) {
      for (auto it = buckets.rbegin(); it != buckets.rend(); ++it) {
        const auto g = gather_op(*it, Stream::dp_gather);
        for (const auto& [j, u] : it->units)
          if (chunks_[j].first_forward[u] != kNoOp) add_dep(chunks_[j].first_forward[u], r_, g);
      }
    }
    const Stream red_stream = L.overlap_grad_reduce ? Stream::dp_reduce : Stream::compute;
    for (const auto& bk : buckets) {
      const Bytes bytes(bk.params * c_.grad_bytes);
      auto o = op(OpKind::grad_reduce, red_stream, Part::stage, -1, bk.units.front().first, -1,
                  dp_time(reduce, bytes));
      o.comm = dp_comm(reduce, bytes.value);
      const auto x = emit(o);
      for (const auto& [j, u] : bk.units)
        if (chunks_[j].last_grad[u] != kNoOp) add_dep(x, r_, chunks_[j].last_grad[u]);
    }
    auto opt = op(OpKind::optimizer, Stream::compute, Part::stage, -1, -1, -1, c_.optimizer[r_].value);
    opt.alloc = c_.optimizer_extra[r_];
    opt.release = c_.optimizer_extra[r_];
    const auto o = emit(opt);
    // The step needs every gradient reduced: the last op of the reduction stream (in-order) ends last.
    for (std::uint32_t i = o; i-- > 0;) {
      if (st_->ops[i].stream == Stream::dp_reduce) {
        add_dep(o, r_, i);
        break;
      }
    }
    if (L.zero >= 1 && !L.overlap_param_gather)
      for (auto it = buckets.rbegin(); it != buckets.rend(); ++it) gather_op(*it, Stream::compute);
  }

  const Scenario& sc_;
  const PlanCosts& c_;
  Plan& plan_;
  int r_ = 0, p_ = 1, v_ = 1, t_ = 1, d_ = 1;
  bool zb_ = false, tp_overlap_ = false, zero3_ = false;
  // FSDP under PP: each unit gathered once per iteration and kept (its bytes are static), gradients
  // reduce-scattered after the last micro-batch's backward only (fsdp_keeps_unsharded).
  bool keep_unsharded_ = false;
  double layer_exposed_ = 1.0;
  StageProgram* st_ = nullptr;
  std::vector<Chunk> chunks_;
  double extra_params_ = 0;
  std::int32_t tp_full_ = -1, tp_hidden_ = -1, tp_exposed_ = -1;
  std::int32_t emb_full_ = -1, emb_hidden_ = -1, emb_exposed_ = -1;
  std::int32_t head_full_ = -1, head_hidden_ = -1, head_exposed_ = -1;
  std::int32_t pp_next_ = -1, pp_prev_ = -1;
  std::vector<std::int32_t> dp_specs_;
  std::vector<std::pair<std::uint32_t, OpDep>> raw_;
};

}  // namespace

Plan lower(const Scenario& sc, const PlanCosts& costs) {
  const auto& L = sc.layout;
  Plan plan;
  plan.schedule = L.schedule;
  plan.pp = L.pp;
  plan.virtual_stages = L.schedule == Schedule::interleaved_1f1b ? L.virtual_stages : 1;
  plan.micro_batches = sc.micro_batches;
  plan.tp = L.tp;
  plan.dp = L.dp;
  plan.stages.resize(L.pp);
  const int p = L.pp, v = plan.virtual_stages, m = sc.micro_batches;
  using PassOps = StageBuilder::PassOps;
  std::vector<std::vector<PassOps>> fwd(p, std::vector<PassOps>(static_cast<std::size_t>(m) * v));
  std::vector<std::vector<PassOps>> bwd(p, std::vector<PassOps>(static_cast<std::size_t>(m) * v));
  std::vector<StageBuilder> builders;
  builders.reserve(p);
  for (int r = 0; r < p; ++r) {
    builders.emplace_back(sc, costs, plan, r);
    builders.back().build(fwd[r], bwd[r]);
  }
  // PP transfers: a pass waits for the send of the same micro-batch from the neighbouring virtual stage
  // (forward: the previous one, rank r - 1 or, across chunks, rank p - 1 of chunk j - 1; backward: the next).
  for (int r = 0; r < p; ++r) {
    for (int mb = 0; mb < m; ++mb) {
      for (int j = 0; j < v; ++j) {
        const std::size_t key = static_cast<std::size_t>(mb) * v + j;
        const int vs = j * p + r;
        if (vs > 0) {
          const int pr = (vs - 1) % p, pj = (vs - 1) / p;
          const auto send = fwd[pr][static_cast<std::size_t>(mb) * v + pj].send;
          if (fwd[r][key].first != kNoOp && send != kNoOp) builders[r].add_dep(fwd[r][key].first, pr, send);
        }
        if (vs < p * v - 1) {
          const int nr = (vs + 1) % p, nj = (vs + 1) / p;
          const auto send = bwd[nr][static_cast<std::size_t>(mb) * v + nj].send;
          if (bwd[r][key].first != kNoOp && send != kNoOp) builders[r].add_dep(bwd[r][key].first, nr, send);
        }
      }
    }
  }
  for (auto& b : builders) b.finish();
  return plan;
}

Plan lower(const Scenario& sc) { return lower(sc, plan_costs(sc)); }

}  // namespace clustersim::strategies
