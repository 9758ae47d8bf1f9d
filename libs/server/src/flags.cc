#include "psc/server/flags.h"

#include <charconv>
#include <cstdlib>
#include <iostream>

#include "psc/domain/strings.h"

namespace psc::server {

Flags& Flags::Add(std::string name, std::string default_value, std::string help) {
  order_.push_back(name);
  flags_[std::move(name)] = Flag{std::move(default_value), std::move(help), false, false};
  return *this;
}

Flags& Flags::AddBool(std::string name, std::string help) {
  order_.push_back(name);
  flags_[std::move(name)] = Flag{"false", std::move(help), true, false};
  return *this;
}

absl::Status Flags::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (name == "help") {
      help_ = true;
      continue;
    }
    auto it = flags_.find(name);
    if (it == flags_.end()) {
      return absl::InvalidArgumentError(StrCat("unknown flag --", name, " (see --help)"));
    }
    Flag& flag = it->second;
    if (flag.is_bool) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            StrCat("--", name, " takes true or false, not ", Quote(value)));
      }
      flag.value = has_value ? value : "true";
    } else {
      if (!has_value) {
        if (i + 1 >= argc) return absl::InvalidArgumentError(StrCat("--", name, " needs a value"));
        value = argv[++i];
      }
      flag.value = value;
    }
    flag.set = true;
  }
  return absl::OkStatus();
}

const std::string& Flags::Get(const std::string& name) const { return flags_.at(name).value; }

bool Flags::GetBool(const std::string& name) const { return flags_.at(name).value == "true"; }

bool Flags::IsSet(const std::string& name) const { return flags_.at(name).set; }

absl::StatusOr<int64_t> Flags::GetInt(const std::string& name) const {
  const std::string& text = Get(name);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(StrCat("--", name, " must be an integer, not ", Quote(text)));
  }
  return value;
}

std::string Flags::Usage() const {
  std::string out = StrCat("usage: ", program_, " [flags]\n", summary_, "\n\nflags:\n");
  for (const auto& name : order_) {
    const Flag& f = flags_.at(name);
    StrAppend(&out, "  --", name, f.is_bool ? "" : "=VALUE", "\n      ", f.help);
    if (!f.is_bool && !f.value.empty()) StrAppend(&out, " (default ", f.value, ")");
    StrAppend(&out, "\n");
  }
  return out;
}

void ParseOrExit(Flags& flags, int argc, char** argv) {
  if (auto s = flags.Parse(argc, argv); !s.ok()) {
    std::cerr << argv[0] << ": " << s.message() << "\n";
    std::exit(2);
  }
  if (flags.help()) {
    std::cout << flags.Usage();
    std::exit(0);
  }
}

}  // namespace psc::server
