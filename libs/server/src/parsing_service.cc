#include "psc/server/parsing_service.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>

#include "psc/domain/strings.h"
#include "psc/domain/violations.h"
#include "psc/server/status.h"

namespace psc::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// The protobuf parser's limit of nested messages and groups.
constexpr int kMaxDepth = 100;

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates,
// nothing above U+10FFFF), as protobuf requires of proto3 strings.
bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

struct Problem {
  std::string field;        // path of the field, or "request"
  std::string reason;       // MALFORMED, INVALID_UTF8, TOO_DEEP
  std::string description;  // what is wrong, with the byte offset
};

// Reads the wire format of one message (or group) and reports its first
// problem. Offsets are from the start of the request.
class WireCheck {
 public:
  explicit WireCheck(std::string_view bytes) : bytes_(bytes) {}

  // Checks [begin, end) as `type` (null: unknown content) at `path`; with
  // `group`, the content ends at that group's end tag, and `*end` is set
  // past it.
  std::optional<Problem> Message(const Descriptor* type, size_t begin, size_t limit,
                                 const std::string& path, int depth, int group = 0,
                                 size_t* end = nullptr) {
    std::map<int, int> seen;  // occurrences per field number, for indexes
    size_t pos = begin;
    while (pos < limit) {
      const size_t tag_at = pos;
      uint64_t tag = 0;
      if (!Varint(pos, limit, &tag)) {
        return Problem{Where(path), "MALFORMED",
                       StrCat("a field tag at byte ", tag_at, " is cut short")};
      }
      const int number = static_cast<int>(tag >> 3);
      const int wire = static_cast<int>(tag & 7);
      if (number == 0 || tag >> 3 > 536870911) {
        return Problem{Where(path), "MALFORMED",
                       StrCat("byte ", tag_at, " starts a field numbered ", tag >> 3,
                              ", which no protobuf field can have")};
      }
      const FieldDescriptor* field = type ? type->FindFieldByNumber(number) : nullptr;
      const std::string at = FieldPath(path, field, number, seen);
      switch (wire) {
        case 0: {
          uint64_t ignored = 0;
          if (!Varint(pos, limit, &ignored)) {
            return Problem{at, "MALFORMED",
                           StrCat("the number at byte ", tag_at, " is cut short")};
          }
          break;
        }
        case 1:
        case 5: {
          const size_t width = wire == 1 ? 8 : 4;
          if (limit - pos < width) {
            return Problem{at, "MALFORMED",
                           StrCat("the ", width, "-byte value at byte ", tag_at, " is cut short")};
          }
          pos += width;
          break;
        }
        case 2: {
          uint64_t length = 0;
          if (!Varint(pos, limit, &length)) {
            return Problem{at, "MALFORMED",
                           StrCat("the length at byte ", tag_at, " is cut short")};
          }
          if (length > limit - pos) {
            return Problem{at, "MALFORMED",
                           StrCat("byte ", tag_at, " says ", length, " bytes follow, but only ",
                                  limit - pos, " remain")};
          }
          const size_t content = pos;
          pos += static_cast<size_t>(length);
          if (field == nullptr) break;
          if (field->type() == FieldDescriptor::TYPE_STRING &&
              field->file()->syntax() == google::protobuf::FileDescriptor::SYNTAX_PROTO3 &&
              !ValidUtf8(bytes_.substr(content, pos - content))) {
            return Problem{at, "INVALID_UTF8",
                           StrCat("is not valid UTF-8 (the string at byte ", content,
                                  "); a string field holds UTF-8 text")};
          }
          if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
            if (depth + 1 > kMaxDepth) return TooDeep(at, tag_at);
            if (auto p = Message(field->message_type(), content, pos, at, depth + 1); p) return p;
          }
          break;
        }
        case 3: {
          if (depth + 1 > kMaxDepth) return TooDeep(at, tag_at);
          const Descriptor* inner =
              field != nullptr && field->type() == FieldDescriptor::TYPE_GROUP
                  ? field->message_type()
                  : nullptr;
          size_t after = pos;
          if (auto p = Message(inner, pos, limit, at, depth + 1, number, &after); p) return p;
          pos = after;
          break;
        }
        case 4:
          if (group == number) {
            if (end != nullptr) *end = pos;
            return std::nullopt;
          }
          return Problem{Where(path), "MALFORMED",
                         StrCat("byte ", tag_at, " ends a group (field ", number,
                                ") that was never started")};
        default:
          return Problem{at, "MALFORMED",
                         StrCat("byte ", tag_at, " has wire type ", wire,
                                ", which protobuf does not have")};
      }
    }
    if (group != 0) {
      return Problem{Where(path), "MALFORMED",
                     StrCat("the group of field ", group, " has no end before byte ", limit)};
    }
    if (end != nullptr) *end = pos;
    return std::nullopt;
  }

 private:
  bool Varint(size_t& pos, size_t limit, uint64_t* value) const {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos < limit; shift += 7) {
      const auto b = static_cast<unsigned char>(bytes_[pos++]);
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) {
        *value = v;
        return true;
      }
    }
    return false;
  }

  static std::string Where(const std::string& path) { return path.empty() ? "request" : path; }

  static std::string FieldPath(const std::string& path, const FieldDescriptor* field, int number,
                               std::map<int, int>& seen) {
    const std::string prefix = path.empty() ? "" : StrCat(path, ".");
    if (field == nullptr) return StrCat(prefix, "(field ", number, ")");
    if (!field->is_repeated()) return StrCat(prefix, field->name());
    return StrCat(prefix, field->name(), "[", seen[number]++, "]");
  }

  static Problem TooDeep(const std::string& at, size_t tag_at) {
    return Problem{at, "TOO_DEEP",
                   StrCat("byte ", tag_at, " nests messages more than ", kMaxDepth, " deep")};
  }

  std::string_view bytes_;
};

}  // namespace

absl::Status DescribeUnparsable(const Descriptor& type, std::string_view bytes) {
  WireCheck check(bytes);
  std::optional<Problem> problem = check.Message(&type, 0, bytes.size(), "", 0);
  if (!problem) return absl::OkStatus();
  Violations v;
  v.Add(problem->field, problem->reason, problem->description);
  return v.ToStatus(StrCat("the request could not be parsed as ", type.full_name()));
}

absl::Status ParseRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message) {
  bool parsed = false;
  if (!bytes.Valid()) {
    parsed = message->ParseFromString("");
  } else {
    grpc::ByteBuffer copy(bytes);  // shares the slices; the reader takes a non-const buffer
    grpc::ProtoBufferReader reader(&copy);
    parsed = reader.status().ok() && message->ParseFromZeroCopyStream(&reader);
  }
  if (parsed) return absl::OkStatus();
  // The slow path, only for what failed: find out why.
  std::string flat;
  if (bytes.Valid()) {
    std::vector<grpc::Slice> slices;
    (void)bytes.Dump(&slices);
    for (const grpc::Slice& s : slices) {
      flat.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  if (absl::Status why = DescribeUnparsable(*message->GetDescriptor(), flat); !why.ok()) {
    return why;
  }
  return InvalidField("request", "MALFORMED",
                      StrCat("the request could not be parsed as ",
                             message->GetDescriptor()->full_name()));
}

ParsingService::ParsingService(std::string_view full_name)
    : descriptor_(google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(full_name))) {
  if (descriptor_ == nullptr) {
    std::cerr << "no proto service " << full_name << " is linked\n";
    std::abort();
  }
}

const char* ParsingService::Declare(std::string_view method, const Descriptor& request,
                                    const Descriptor& response) {
  const auto* m = descriptor_->FindMethodByName(std::string(method));
  if (m == nullptr || m->input_type() != &request || m->output_type() != &response ||
      m->client_streaming() || m->server_streaming()) {
    std::cerr << descriptor_->full_name() << ": no unary method " << method << "("
              << request.full_name() << ") returns " << response.full_name() << "\n";
    std::abort();
  }
  served_.push_back(m->name());
  paths_.push_back(StrCat("/", descriptor_->full_name(), "/", m->name()));
  return paths_.back().c_str();
}

std::vector<std::string> ParsingService::Unserved() const {
  std::vector<std::string> out;
  for (int i = 0; i < descriptor_->method_count(); ++i) {
    const std::string& name = descriptor_->method(i)->name();
    if (std::find(served_.begin(), served_.end(), name) == served_.end()) out.push_back(name);
  }
  return out;
}

grpc::Status ParsingService::Refused(const absl::Status& status) { return ToGrpcStatus(status); }

grpc::Status ParsingService::SerializeReply(const google::protobuf::Message& response,
                                   grpc::ByteBuffer* out) {
  bool own_buffer = false;
  return grpc::SerializationTraits<google::protobuf::Message>::Serialize(response, out,
                                                                         &own_buffer);
}

}  // namespace psc::server
