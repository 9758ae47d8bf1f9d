#include "psc/eventlog/kafka_log.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <optional>

#include "psc/domain/strings.h"
#include "psc/eventlog/random_id.h"

namespace psc::eventlog {
namespace {

using Clock = std::chrono::steady_clock;
using Settings = std::vector<std::pair<std::string, std::string>>;

// The event log's one partition (DESIGN invariant 0).
constexpr int32_t kPartition = 0;

int Millis(std::chrono::milliseconds d) {
  return static_cast<int>(std::clamp<int64_t>(d.count(), 0, INT32_MAX));
}

int MillisUntil(Clock::time_point deadline) {
  return Millis(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

absl::Status Configure(rd_kafka_conf_t* conf, const Settings& settings) {
  char err[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return absl::InvalidArgumentError(StrCat("kafka setting ", key, "=", value, ": ", err));
    }
  }
  return absl::OkStatus();
}

// Creates a client from settings; takes `conf` in every case.
absl::StatusOr<rd_kafka_t*> NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf,
                                      const Settings& ours, const Settings& extra) {
  absl::Status s = Configure(conf, ours);
  if (s.ok()) s = Configure(conf, extra);
  if (!s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);  // owns conf on success
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(StrCat("kafka client: ", err));
  }
  return rk;
}

// Errors after which the same request cannot succeed by waiting or retrying.
bool IsPermanent(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__FATAL:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
    case RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
      return true;
    default:
      return false;
  }
}

absl::Status AppendError(rd_kafka_resp_err_t err, const std::string& where) {
  std::string message = StrCat(where, ": append not acknowledged: ", rd_kafka_err2str(err));
  return IsPermanent(err) ? absl::InternalError(message) : absl::UnavailableError(message);
}

// The message of a fatal error, once librdkafka has raised one.
std::optional<std::string> FatalReason(rd_kafka_t* rk) {
  char reason[512];
  if (rd_kafka_fatal_error(rk, reason, sizeof reason) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string(reason);
}

// Asks the partition leader for an offset: RD_KAFKA_OFFSET_BEGINNING for the
// first event still on the partition, RD_KAFKA_OFFSET_END for the one the
// next event will get (the high watermark). rd_kafka_offsets_for_times keeps
// to its timeout while the leader is unreachable, which
// rd_kafka_query_watermark_offsets does not.
absl::StatusOr<int64_t> QueryOffset(rd_kafka_t* rk, const std::string& topic, int64_t marker,
                                    Clock::time_point deadline, const std::string& where) {
  std::unique_ptr<rd_kafka_topic_partition_list_t, void (*)(rd_kafka_topic_partition_list_t*)>
      parts(rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
  rd_kafka_topic_partition_t* part =
      rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), kPartition);
  part->offset = marker;
  rd_kafka_resp_err_t err =
      rd_kafka_offsets_for_times(rk, parts.get(), std::max(1, MillisUntil(deadline)));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = part->err;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        StrCat(where, ": cannot read the ends of the log: ", rd_kafka_err2str(err)));
  }
  return part->offset;
}

// An append waiting for its delivery report. Shared between the appending
// thread and librdkafka (through the message's opaque pointer), so that an
// append that stops waiting leaves the payload alive until librdkafka is done
// with it: payloads are produced without a copy.
struct Delivery {
  std::string payload;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  int64_t offset = -1;
};

}  // namespace

// librdkafka's C callbacks, with access to the log they serve.
struct KafkaCallbacks {
  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      static_cast<KafkaLog*>(opaque)->probe_.DeliveryFailed();
    }
    std::unique_ptr<std::shared_ptr<Delivery>> holder(
        static_cast<std::shared_ptr<Delivery>*>(message->_private));
    Delivery& d = **holder;
    {
      std::lock_guard lock(d.mu);
      d.err = message->err;
      d.offset = message->offset;
      d.done = true;
    }
    d.cv.notify_all();
  }

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
    auto* log = static_cast<KafkaLog*>(opaque);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      // The idempotent producer can no longer guarantee order without gaps
      // or duplicates: refuse every later append until a restart.
      std::string why = FatalReason(rk).value_or(reason);
      std::lock_guard lock(log->mu_);
      log->fatal_ = absl::InternalError(
          StrCat(log->Describe(), ": producer stopped after a fatal error: ", why));
    }
    // Everything else is transient (librdkafka retries and reconnects);
    // appends that cannot wait it out fail by themselves.
    std::cerr << log->Describe() << ": " << reason << "\n";
  }
};

// Reads partition 0 from an explicit offset with a consumer of its own. It
// never subscribes, commits or stores offsets: the group id only satisfies
// the API and is unique so that it can never take part in a rebalance.
class KafkaReader final : public LogReader {
 public:
  static absl::StatusOr<std::unique_ptr<LogReader>> Open(const KafkaOptions& options,
                                                         std::string where, LogPosition after) {
    std::unique_ptr<KafkaReader> reader(new KafkaReader(options, std::move(where), after));
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_error_cb(conf, &KafkaReader::OnError);
    rd_kafka_conf_set_opaque(conf, reader.get());
    auto rk = NewClient(RD_KAFKA_CONSUMER, conf,
                        {{"bootstrap.servers", options.brokers},
                         {"client.id", options.client_id},
                         {"group.id", "psc-reader-" + RandomId()},
                         {"enable.auto.commit", "false"},
                         {"enable.auto.offset.store", "false"},
                         // Never jump to another offset: a reader that cannot
                         // continue where it is must fail (OUT_OF_RANGE).
                         {"auto.offset.reset", "error"},
                         {"enable.partition.eof", "false"},
                         // A read model waits on new events (min_position):
                         // answer fetches within tens of milliseconds, not
                         // the default half second.
                         {"fetch.wait.max.ms", "20"},
                         // One fetch takes the largest event whole.
                         {"fetch.message.max.bytes", std::to_string(options.max_event_bytes)},
                         {"allow.auto.create.topics", "false"}},
                        options.config);
    if (!rk.ok()) return rk.status();
    reader->rk_ = *rk;
    rd_kafka_poll_set_consumer(reader->rk_);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, options.topic.c_str(), kPartition)->offset =
        static_cast<int64_t>(after.value());
    rd_kafka_resp_err_t err = rd_kafka_assign(reader->rk_, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          StrCat(reader->where_, ": cannot open a reader: ", rd_kafka_err2str(err)));
    }
    return reader;
  }

  ~KafkaReader() override {
    // The reader never joined a group, so there is nothing to leave.
    if (rk_ != nullptr) rd_kafka_destroy_flags(rk_, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  absl::StatusOr<std::vector<Record>> Read(size_t max_events, std::chrono::milliseconds wait) override {
    if (!final_.ok()) return final_;
    std::vector<Record> out;
    if (max_events == 0) return out;
    Clock::time_point deadline = Clock::now() + wait;
    while (out.size() < max_events && final_.ok()) {
      // Wait only for the first event; then take what has already arrived.
      int timeout = out.empty() ? MillisUntil(deadline) : 0;
      rd_kafka_message_t* raw = rd_kafka_consumer_poll(rk_, timeout);
      if (out_of_range_.has_value() && final_.ok()) final_ = OutOfRange(*out_of_range_);
      if (raw == nullptr) {
        if (out.empty() && Clock::now() < deadline && final_.ok()) continue;
        break;
      }
      std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> message(
          raw, &rd_kafka_message_destroy);
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        Trouble(message->err, rd_kafka_message_errstr(message.get()));
        if (out_of_range_.has_value() && final_.ok()) final_ = OutOfRange(*out_of_range_);
        continue;
      }
      uint64_t position = static_cast<uint64_t>(message->offset) + 1;
      if (position != next_) {
        final_ = absl::OutOfRangeError(
            StrCat(where_, ": position ", next_, " is missing (the next event on the log is at ",
                   position, ", compaction or retention removed the ones between): the read model "
                   "must be rebuilt from a full log"));
        break;
      }
      const char* bytes = static_cast<const char*>(message->payload);
      out.push_back({LogPosition(position), std::string(bytes, bytes + message->len)});
      ++next_;
      trouble_since_.reset();
    }
    if (out.empty() && final_.ok() && trouble_since_.has_value() &&
        Clock::now() - *trouble_since_ >= options_.reader_unavailable_after) {
      // Errors are only reported when they happen, not when they end: ask
      // the brokers directly whether they can be reached now.
      auto probe = QueryOffset(rk_, options_.topic, RD_KAFKA_OFFSET_END,
                               Clock::now() + std::min(options_.request_timeout,
                                                       std::chrono::milliseconds(2000)),
                               where_);
      if (probe.ok()) {
        trouble_since_.reset();
      } else {
        final_ = absl::UnavailableError(StrCat(where_, ": the brokers have been unreachable for over ",
                                               options_.reader_unavailable_after.count(),
                                               " ms: ", trouble_));
      }
    }
    // Events read before an error are returned first; the error comes with
    // the next call, and every call after it.
    if (out.empty() && !final_.ok()) return final_;
    return out;
  }

 private:
  KafkaReader(const KafkaOptions& options, std::string where, LogPosition after)
      : options_(options), where_(std::move(where)), next_(after.value() + 1) {}

  static void OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
    static_cast<KafkaReader*>(opaque)->Trouble(static_cast<rd_kafka_resp_err_t>(err), reason);
  }

  void Trouble(rd_kafka_resp_err_t err, const std::string& reason) {
    if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    if (err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
      // Explained once the poll has returned: this may run inside it.
      if (!out_of_range_.has_value()) out_of_range_ = reason;
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      if (final_.ok()) final_ = absl::UnavailableError(StrCat(where_, ": reader failed: ", reason));
      return;
    }
    std::cerr << where_ << ": reader: " << reason << "\n";
    if (!trouble_since_.has_value()) trouble_since_ = Clock::now();
    trouble_ = reason;
  }

  // The reader's next event is not on the partition: say whether it was
  // removed or never there.
  absl::Status OutOfRange(const std::string& reason) {
    Clock::time_point deadline = Clock::now() + std::chrono::seconds(2);
    auto high = QueryOffset(rk_, options_.topic, RD_KAFKA_OFFSET_END, deadline, where_);
    if (high.ok() && next_ > static_cast<uint64_t>(*high) + 1) {
      return absl::OutOfRangeError(
          StrCat(where_, ": position ", next_ - 1, " is past the end of the log (position ", *high,
                 "): the reader's position does not come from this log"));
    }
    auto low = QueryOffset(rk_, options_.topic, RD_KAFKA_OFFSET_BEGINNING, deadline, where_);
    std::string start =
        low.ok() ? StrCat(" (the log now starts after position ", *low, ")") : std::string();
    return absl::OutOfRangeError(StrCat(where_, ": position ", next_,
                                        " is no longer on the log: retention removed it", start,
                                        "; the read model must be rebuilt from a full log [", reason,
                                        "]"));
  }

  KafkaOptions options_;
  std::string where_;
  rd_kafka_t* rk_ = nullptr;
  uint64_t next_;        // position of the next event to return
  absl::Status final_;   // once set, every Read returns it
  std::optional<Clock::time_point> trouble_since_;  // first transient error since the last event
  std::string trouble_;  // the latest transient error
  std::optional<std::string> out_of_range_;  // librdkafka's words for a missing offset
};

absl::StatusOr<std::unique_ptr<KafkaLog>> KafkaLog::Open(KafkaOptions options) {
  if (options.brokers.empty()) return absl::InvalidArgumentError("kafka: no brokers given");
  if (options.topic.empty()) return absl::InvalidArgumentError("kafka: no topic given");
  std::unique_ptr<KafkaLog> log(new KafkaLog(std::move(options)));
  absl::Status s = log->Connect();
  if (!s.ok()) return s;
  return log;
}

absl::Status KafkaLog::Connect() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaCallbacks::OnDelivery);
  rd_kafka_conf_set_error_cb(conf, &KafkaCallbacks::OnError);
  rd_kafka_conf_set_opaque(conf, this);
  auto rk = NewClient(RD_KAFKA_PRODUCER, conf,
                      {{"bootstrap.servers", options_.brokers},
                       {"client.id", options_.client_id},
                       // Retries neither duplicate nor reorder events.
                       {"enable.idempotence", "true"},
                       {"acks", "all"},
                       {"linger.ms", std::to_string(options_.linger.count())},
                       {"message.max.bytes", std::to_string(options_.max_event_bytes)},
                       {"message.timeout.ms", std::to_string(Millis(options_.append_timeout))}},
                      options_.config);
  if (!rk.ok()) return rk.status();
  producer_ = *rk;

  absl::Status s = CheckTopic();
  if (absl::IsNotFound(s) && options_.create_topic) s = CreateTopic();
  if (!s.ok()) return s;

  char* id = rd_kafka_clusterid(producer_, Millis(options_.request_timeout));
  if (id == nullptr) {
    return absl::FailedPreconditionError(
        StrCat(Describe(), ": the cluster reports no id, which the log's identity needs"));
  }
  log_id_ = StrCat("kafka:", id, "/", options_.topic);
  rd_kafka_mem_free(producer_, id);

  // Only now that the topic is known to exist: a producer's topic handle
  // fetches metadata that some brokers answer by creating the topic.
  topic_ = rd_kafka_topic_new(producer_, options_.topic.c_str(), nullptr);
  if (topic_ == nullptr) {
    return absl::InternalError(
        StrCat(Describe(), ": ", rd_kafka_err2str(rd_kafka_last_error())));
  }
  poller_ = std::thread([this] {
    while (!stopping_.load()) {
      // The reports one poll serves were acknowledged together.
      const int served = rd_kafka_poll(producer_, 100);
      if (served > 0) probe_.Durable(static_cast<size_t>(served));
      probe_.ProducerQueue(rd_kafka_outq_len(producer_));
    }
  });
  return absl::OkStatus();
}

// Lists all topics rather than asking for this one: a request naming a topic
// lets brokers (and the test cluster) create it with their default partition
// count, which would hide a misspelt name behind a wrong topic.
absl::Status KafkaLog::CheckTopic() {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(producer_, 1, nullptr, &md, Millis(options_.request_timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(
        StrCat(Describe(), ": cannot reach the brokers: ", rd_kafka_err2str(err)));
  }
  std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> guard(
      md, &rd_kafka_metadata_destroy);
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (options_.topic != t.topic) continue;
    if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) break;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return absl::UnavailableError(
          StrCat(Describe(), ": topic ", options_.topic, ": ", rd_kafka_err2str(t.err)));
    }
    if (t.partition_cnt != 1) {
      return absl::FailedPreconditionError(
          StrCat(Describe(), ": topic ", options_.topic, " has ", t.partition_cnt,
                 " partitions; the event log needs exactly 1 (one total order of events)"));
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(StrCat(Describe(), ": topic ", options_.topic,
                                    " does not exist; create it with exactly 1 partition "
                                    "(or set create_topic for development)"));
}

absl::Status KafkaLog::CreateTopic() {
  char err[512];
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(options_.topic.c_str(), 1, -1 /* the brokers' default */, err, sizeof err);
  if (topic == nullptr) return absl::InvalidArgumentError(StrCat(Describe(), ": ", err));
  rd_kafka_AdminOptions_t* admin = rd_kafka_AdminOptions_new(producer_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_request_timeout(admin, Millis(options_.request_timeout), err, sizeof err);
  rd_kafka_AdminOptions_set_operation_timeout(admin, Millis(options_.request_timeout), err, sizeof err);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(producer_);
  rd_kafka_CreateTopics(producer_, &topic, 1, admin, queue);
  // The admin request times out by itself; the extra second only covers
  // delivering that result.
  rd_kafka_event_t* event =
      rd_kafka_queue_poll(queue, Millis(options_.request_timeout) + 1000);
  absl::Status s;
  if (event == nullptr) {
    s = absl::UnavailableError(StrCat(Describe(), ": creating the topic timed out"));
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    s = absl::UnavailableError(
        StrCat(Describe(), ": cannot create the topic: ", rd_kafka_event_error_string(event)));
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    for (size_t i = 0; i < n; ++i) {
      rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
      // Another process creating it at the same time is fine: the partition
      // count is checked below either way.
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* why = rd_kafka_topic_result_error_string(results[i]);
        s = absl::FailedPreconditionError(StrCat(Describe(), ": cannot create the topic: ",
                                                 why != nullptr ? why : rd_kafka_err2str(e)));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(admin);
  rd_kafka_NewTopic_destroy(topic);
  if (!s.ok()) return s;

  // The new topic reaches every broker's metadata a little later.
  Clock::time_point deadline = Clock::now() + options_.request_timeout;
  while (true) {
    s = CheckTopic();
    if (!absl::IsNotFound(s) || Clock::now() >= deadline) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

KafkaLog::~KafkaLog() {
  if (producer_ == nullptr) return;
  stopping_ = true;
  rd_kafka_yield(producer_);  // wakes the poller now rather than at its next timeout
  if (poller_.joinable()) poller_.join();
  // Appends wait for their reports, so only an append that gave up waiting
  // can leave a message behind: drop it, and serve its report so that its
  // payload is freed.
  rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(producer_, 1000);
  if (topic_ != nullptr) rd_kafka_topic_destroy(topic_);
  rd_kafka_destroy(producer_);
}

absl::Status KafkaLog::Fatal() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

absl::StatusOr<LogPosition> KafkaLog::Append(std::string_view key, std::string payload) {
  const auto start = Clock::now();
  auto result = Produce(key, std::move(payload));
  if (result.ok()) {
    probe_.Appended(std::chrono::duration<double>(Clock::now() - start).count());
  } else {
    probe_.AppendFailed();
  }
  return result;
}

absl::StatusOr<LogPosition> KafkaLog::Produce(std::string_view key, std::string payload) {
  if (absl::Status s = Fatal(); !s.ok()) return s;
  auto delivery = std::make_shared<Delivery>();
  delivery->payload = std::move(payload);
  // librdkafka reports every message within message.timeout.ms; the margin
  // only guards against a report that never comes.
  Clock::time_point deadline = Clock::now() + options_.append_timeout + std::chrono::seconds(5);
  while (true) {
    auto* holder = new std::shared_ptr<Delivery>(delivery);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_RKT(topic_), RD_KAFKA_V_PARTITION(kPartition),
        RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(delivery->payload.data(), delivery->payload.size()),
        RD_KAFKA_V_OPAQUE(holder), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    delete holder;
    probe_.ProducerQueue(rd_kafka_outq_len(producer_));
    // A full local queue drains as the poller serves reports.
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      if (absl::Status s = Fatal(); !s.ok()) return s;
    }
    return AppendError(err, Describe());
  }
  std::unique_lock lock(delivery->mu);
  if (!delivery->cv.wait_until(lock, deadline, [&] { return delivery->done; })) {
    return absl::UnavailableError(StrCat(Describe(), ": append not acknowledged in time"));
  }
  if (delivery->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (delivery->err == RD_KAFKA_RESP_ERR__FATAL) {
      if (absl::Status s = Fatal(); !s.ok()) return s;
    }
    return AppendError(delivery->err, Describe());
  }
  if (delivery->offset < 0) {
    return absl::InternalError(StrCat(Describe(), ": the broker acknowledged an append without its offset"));
  }
  return LogPosition(static_cast<uint64_t>(delivery->offset) + 1);
}

absl::StatusOr<LogPosition> KafkaLog::End() {
  auto high = QueryOffset(producer_, options_.topic, RD_KAFKA_OFFSET_END,
                          Clock::now() + options_.request_timeout, Describe());
  if (!high.ok()) return high.status();
  return LogPosition(static_cast<uint64_t>(*high));
}

absl::StatusOr<std::unique_ptr<LogReader>> KafkaLog::OpenReader(LogPosition after) {
  return KafkaReader::Open(options_, Describe(), after);
}

}  // namespace psc::eventlog
