// psc-kafka-test-cluster: librdkafka's mock Kafka cluster in a process of its
// own, so that tests (and people trying the Kafka backend) get brokers that
// speak the real protocol on loopback ports chosen by the system.
//
//   psc-kafka-test-cluster [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints one line, `bootstrap: HOST:PORT[,HOST:PORT...]`, on stdout, then
// reads commands on stdin, one per line, and answers each with one line,
// `ok` or `error: REASON`:
//
//   down BROKER_ID          the broker drops its connections and refuses new ones
//   up BROKER_ID            the broker accepts connections again
//   rtt BROKER_ID MS        delays every answer of the broker by MS milliseconds
//   topic NAME PARTITIONS   creates a topic (the mock has no CreateTopics API)
//
// BROKER_ID -1 means every broker. Exits with 0 on SIGTERM, SIGINT or the end
// of stdin (so the cluster goes away with the process that started it).
//
// What the mock is and is not: every partition keeps its log in memory and
// drops its oldest batches beyond about 5 MiB or 100,000 batches (a stand-in
// for retention); topics that a client asks metadata for are created on the
// fly with 4 partitions; transactions and the admin API are not served.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr char kUsage[] =
    "usage: psc-kafka-test-cluster [--brokers N] [--topic NAME:PARTITIONS]...\n"
    "Runs an in-memory Kafka cluster on loopback ports, prints\n"
    "'bootstrap: HOST:PORT[,...]' and then reads commands on stdin:\n"
    "  down BROKER_ID | up BROKER_ID | rtt BROKER_ID MS | topic NAME PARTITIONS\n"
    "answering 'ok' or 'error: ...' for each. Stops on SIGTERM, SIGINT or end of stdin.\n";

// Commands are short; anything longer is not one (and must not grow memory).
constexpr size_t kMaxLine = 4096;

struct TopicSpec {
  std::string name;
  int partitions = 1;
};

bool ParseInt(std::string_view s, int* out) {
  if (s.empty()) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

class Cluster {
 public:
  // The mock cluster needs an rd_kafka_t for its own bookkeeping; it does not
  // have to connect anywhere.
  static std::unique_ptr<Cluster> Start(int brokers, std::string* error) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    // Only warnings and worse: the handle has no bootstrap servers on purpose
    // and would say so at notice level.
    if (rd_kafka_conf_set(conf, "log_level", "4", err, sizeof err) != RD_KAFKA_CONF_OK) {
      *error = err;
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk == nullptr) {
      *error = err;
      return nullptr;
    }
    rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(rk, brokers);
    if (mock == nullptr) {
      *error = "cannot create the mock cluster";
      rd_kafka_destroy(rk);
      return nullptr;
    }
    return std::unique_ptr<Cluster>(new Cluster(rk, mock, brokers));
  }

  ~Cluster() {
    rd_kafka_mock_cluster_destroy(mock_);
    rd_kafka_destroy(rk_);
  }

  std::string Bootstrap() const { return rd_kafka_mock_cluster_bootstraps(mock_); }

  // Returns "" on success, otherwise the reason.
  std::string CreateTopic(const std::string& name, int partitions) {
    if (name.empty()) return "empty topic name";
    if (partitions < 1) return "a topic needs at least one partition";
    int replicas = std::min(brokers_, 3);
    return Reason(rd_kafka_mock_topic_create(mock_, name.c_str(), partitions, replicas));
  }

  // One command line -> "ok" or "error: ...".
  std::string Execute(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) return "error: empty command";
    const std::string& verb = words[0];
    std::string reason;
    int broker = 0;
    int number = 0;
    if ((verb == "down" || verb == "up") && words.size() == 2) {
      if (!ParseBroker(words[1], &broker, &reason)) return "error: " + reason;
      reason = Reason(verb == "down" ? rd_kafka_mock_broker_set_down(mock_, broker)
                                     : rd_kafka_mock_broker_set_up(mock_, broker));
    } else if (verb == "rtt" && words.size() == 3) {
      if (!ParseBroker(words[1], &broker, &reason)) return "error: " + reason;
      if (!ParseInt(words[2], &number) || number < 0) return "error: bad milliseconds " + words[2];
      reason = Reason(rd_kafka_mock_broker_set_rtt(mock_, broker, number));
    } else if (verb == "topic" && words.size() == 3) {
      if (!ParseInt(words[2], &number)) return "error: bad partition count " + words[2];
      reason = CreateTopic(words[1], number);
    } else {
      return "error: unknown command '" + line +
             "' (expected: down ID | up ID | rtt ID MS | topic NAME PARTITIONS)";
    }
    return reason.empty() ? "ok" : "error: " + reason;
  }

 private:
  Cluster(rd_kafka_t* rk, rd_kafka_mock_cluster_t* mock, int brokers)
      : rk_(rk), mock_(mock), brokers_(brokers) {}

  // The mock answers "broker not available" for an unknown id, which reads
  // like a broker that is down: name the valid ids instead.
  bool ParseBroker(const std::string& word, int* id, std::string* reason) const {
    if (!ParseInt(word, id) || (*id != -1 && (*id < 1 || *id > brokers_))) {
      *reason = "no broker " + word + " (brokers are 1.." + std::to_string(brokers_) + ", or -1)";
      return false;
    }
    return true;
  }

  static std::string Reason(rd_kafka_resp_err_t err) {
    return err == RD_KAFKA_RESP_ERR_NO_ERROR ? "" : rd_kafka_err2str(err);
  }

  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* mock_;
  int brokers_;
};

}  // namespace

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<TopicSpec> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--brokers" && i + 1 < argc) {
      if (!ParseInt(argv[++i], &brokers) || brokers < 1) {
        std::cerr << "psc-kafka-test-cluster: --brokers needs a positive number\n";
        return 2;
      }
    } else if (arg == "--topic" && i + 1 < argc) {
      std::string spec = argv[++i];
      size_t colon = spec.rfind(':');
      TopicSpec t;
      t.name = spec.substr(0, colon);
      if (colon == std::string::npos || t.name.empty() ||
          !ParseInt(std::string_view(spec).substr(colon + 1), &t.partitions) || t.partitions < 1) {
        std::cerr << "psc-kafka-test-cluster: --topic needs NAME:PARTITIONS, got '" << spec << "'\n";
        return 2;
      }
      topics.push_back(t);
    } else {
      std::cerr << "psc-kafka-test-cluster: unknown argument '" << arg << "'\n" << kUsage;
      return 2;
    }
  }

  // Block the stop signals before librdkafka starts its threads (they inherit
  // the mask), so that only the signalfd below sees them and the main loop
  // can shut the cluster down in order.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGPIPE);
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr) != 0) {
    std::cerr << "psc-kafka-test-cluster: cannot block signals\n";
    return 1;
  }
  sigdelset(&stop_signals, SIGPIPE);  // blocked (writes fail instead), not awaited
  int signal_fd = signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::cerr << "psc-kafka-test-cluster: signalfd: " << std::strerror(errno) << "\n";
    return 1;
  }

  std::string error;
  std::unique_ptr<Cluster> cluster = Cluster::Start(brokers, &error);
  if (cluster == nullptr) {
    std::cerr << "psc-kafka-test-cluster: " << error << "\n";
    return 1;
  }
  for (const auto& t : topics) {
    std::string reason = cluster->CreateTopic(t.name, t.partitions);
    if (!reason.empty()) {
      std::cerr << "psc-kafka-test-cluster: topic " << t.name << ": " << reason << "\n";
      return 1;
    }
  }
  std::printf("bootstrap: %s\n", cluster->Bootstrap().c_str());
  std::fflush(stdout);

  // Commands arrive in pieces of any size: split them into lines here rather
  // than mixing buffered stdin with poll().
  std::string pending;
  char buf[4096];
  bool running = true;
  while (running) {
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::cerr << "psc-kafka-test-cluster: poll: " << std::strerror(errno) << "\n";
      break;
    }
    if (fds[1].revents & POLLIN) break;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      pending.append(buf, static_cast<size_t>(n));
      size_t newline;
      while ((newline = pending.find('\n')) != std::string::npos) {
        std::string line = pending.substr(0, newline);
        pending.erase(0, newline + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        std::string answer = cluster->Execute(line);
        std::printf("%s\n", answer.c_str());
        if (std::fflush(stdout) != 0) running = false;  // nobody listens any more
      }
      if (pending.size() > kMaxLine) {
        std::printf("error: command longer than %zu bytes\n", kMaxLine);
        std::fflush(stdout);
        pending.clear();
      }
    }
  }
  // Nothing to keep: the cluster lives in memory only. Skip tearing it down,
  // which waits up to a second for the mock's own thread to notice.
  std::fflush(stdout);
  std::_Exit(0);
}
