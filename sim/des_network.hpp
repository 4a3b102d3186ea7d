#pragma once
// How the full discrete-event simulation loads links: the seam between the simulator and a network model.
//
// NetworkModel turns one collective (or point-to-point transfer) among global GPU ids into transfer
// phases of an engine task: per phase a latency, then one flow over the links every member uses, which
// the engine shares max-min fairly with whatever else crosses those links. PerGpuLinks is the model used
// until the topology graph (hardware/topology) drives it: each GPU has one scale-up port (NVLink) and a
// NIC (shared by `topology.host.gpus_per_nic` GPUs), each a transmit and a receive link (full duplex),
// behind non-blocking switches. A collective inside one scale-up domain (a node, or an NVL72 rack) loads
// its members' scale-up ports; across domains with one member per domain, their NICs; otherwise it runs
// hierarchically (inside the domain, across domains on 1/k of the data, inside again), one phase per
// level, as hardware::collective_cost does. Each phase's flow is sized so that, alone on its links, it
// takes exactly the time hardware::collective_cost gives (its latency part at zero bytes, the rest
// through the flow): without contention the full simulation matches the representative one, whatever
// the collective model is; with contention, flows sharing a link slow each other down.
//
// To plug in the topology graph: implement NetworkModel with routes over its links (a ring's hops, or
// the graph's paths for point-to-point), and pass it to the simulation instead of PerGpuLinks.
#include <map>
#include <span>
#include <tuple>
#include <vector>

#include "hardware/comm_model.hpp"
#include "sim/engine/engine.hpp"

namespace clustersim::sim {

class NetworkModel {
 public:
  virtual ~NetworkModel() = default;
  // Appends to the task the engine added last the phases of collective `op` over `bytes` (the whole
  // array, nccl-tests' size) among `members` (global GPU ids, ascending), taking `scale` of its time
  // (an op that is one share of a collective split for overlap).
  virtual void add_collective(engine::Engine& e, hardware::Collective op, double bytes, std::span<const int> members,
                              double scale) = 0;
  // Appends a point-to-point transfer of `bytes` from GPU `from` to GPU `to`.
  virtual void add_send(engine::Engine& e, double bytes, int from, int to) = 0;
};

// A link slowed down by a factor (a bad cable, a degraded NIC): `nic` or the NVLink port of `gpu`.
struct LinkSlowdown {
  int gpu = 0;
  bool nic = true;
  double factor = 1.0;
};

class PerGpuLinks final : public NetworkModel {
 public:
  // Adds 4 links per GPU to the engine: scale-up transmit and receive, NIC transmit and receive (a NIC
  // shared by several GPUs uses the links of the first of them).
  PerGpuLinks(engine::Engine& e, const hardware::ClusterSpec& cluster, std::span<const LinkSlowdown> slow);
  void add_collective(engine::Engine& e, hardware::Collective op, double bytes, std::span<const int> members,
                      double scale) override;
  void add_send(engine::Engine& e, double bytes, int from, int to) override;

 private:
  enum Port { nvlink_tx, nvlink_rx, nic_tx, nic_rx };
  [[nodiscard]] engine::LinkId link(int gpu, Port port) const {
    if (port == nic_tx || port == nic_rx) gpu -= gpu % gpus_per_nic_;
    return first_ + 4 * static_cast<engine::LinkId>(gpu) + port;
  }
  [[nodiscard]] int domain(int gpu) const { return gpu / domain_gpus_; }
  // A phase whose no-contention time is `seconds` (of which `latency`) over the given ports of the members.
  void phase(engine::Engine& e, double latency, double seconds, std::span<const int> members, bool nic);

  // One level of a collective, alone on its links: latency and total seconds, over NICs or NVLink.
  struct Level {
    double latency = 0, seconds = 0;
    bool nic = false;
  };
  const std::vector<Level>& levels(hardware::Collective op, double bytes, int n, int k);

  hardware::ClusterSpec cluster_;
  std::map<std::tuple<int, double, int, int>, std::vector<Level>> memo_;  // the same collectives recur
  engine::LinkId first_ = 0;
  int domain_gpus_ = 1, gpus_per_nic_ = 1;
  double nvlink_capacity_ = 0, nic_capacity_ = 0;
  std::vector<engine::LinkUse> uses_;
};

}  // namespace clustersim::sim
