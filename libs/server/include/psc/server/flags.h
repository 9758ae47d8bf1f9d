// Command-line flags for the psc programs: `--name=value`, `--name value`
// and bare `--name` for booleans. Unknown flags and bad values are errors
// that name the flag.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace psc::server {

class Flags {
 public:
  Flags(std::string program, std::string summary)
      : program_(std::move(program)), summary_(std::move(summary)) {}

  Flags& Add(std::string name, std::string default_value, std::string help);
  Flags& AddBool(std::string name, std::string help);

  // Parses argv[1..]; positional arguments are kept in order. `--help`
  // sets help().
  absl::Status Parse(int argc, char** argv);

  const std::string& Get(const std::string& name) const;
  bool GetBool(const std::string& name) const;
  absl::StatusOr<int64_t> GetInt(const std::string& name) const;
  bool IsSet(const std::string& name) const;
  // True when the program defines the flag.
  bool Has(const std::string& name) const { return flags_.count(name) > 0; }
  const std::vector<std::string>& positional() const { return positional_; }
  bool help() const { return help_; }
  std::string Usage() const;

 private:
  struct Flag {
    std::string value;
    std::string help;
    bool is_bool = false;
    bool set = false;
  };
  std::string program_;
  std::string summary_;
  std::map<std::string, Flag> flags_;
  std::vector<std::string> order_;
  std::vector<std::string> positional_;
  bool help_ = false;
};

// Parses the flags or exits: prints the usage and exits 0 for --help, prints
// the error and exits 2 for a bad command line.
void ParseOrExit(Flags& flags, int argc, char** argv);

}  // namespace psc::server
