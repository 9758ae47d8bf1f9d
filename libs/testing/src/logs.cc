#include "psc/testing/logs.h"

#include <iostream>

#include "psc/eventlog/journal.h"
#include "psc/eventlog/memory_log.h"
#include "psc/testing/process.h"

namespace psc::testing {

LogUnderTest MakeJournalLog() {
  auto dir = std::make_shared<TempDir>();
  std::string path = dir->Sub("journal");
  auto open = [path]() -> std::unique_ptr<eventlog::EventLog> {
    auto j = eventlog::Journal::Open(path);
    if (!j.ok()) {
      std::cerr << "cannot open journal: " << j.status() << "\n";
      return nullptr;
    }
    return std::move(*j);
  };
  return {dir, open(), open};
}

LogUnderTest MakeMemoryLog() { return {nullptr, std::make_unique<eventlog::MemoryLog>(), {}}; }

}  // namespace psc::testing
