#include "psc/testing/pki.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace psc::testing {

absl::StatusOr<TestPki> TestPki::Create(const std::string& dir) {
  TestPki pki(dir);
  if (auto s = pki.Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                       " -keyout ca.key -out ca.pem -days 2 -subj /CN=psc-test-ca");
      !s.ok()) {
    return s;
  }
  std::ofstream(pki.Path("san.ext")) << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  if (auto s = pki.Issue("server", "localhost", "-extfile san.ext"); !s.ok()) return s;
  return pki;
}

absl::Status TestPki::Issue(const std::string& name, const std::string& common_name,
                            const std::string& extra) const {
  if (auto s = Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                   name + ".key -out " + name + ".csr -subj /CN=" + common_name);
      !s.ok()) {
    return s;
  }
  return Run("openssl x509 -req -in " + name +
             ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " + name + ".pem " + extra);
}

absl::Status TestPki::IssueFor(const std::string& name, const std::string& common_name,
                               const std::string& start, const std::string& end) const {
  std::ofstream(Path("ca.cnf")) << "[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\n"
                                   "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                                   "policy = any\nunique_subject = no\n[any]\ncommonName = supplied\n";
  if (!std::ifstream(Path("serial"))) {
    std::ofstream(Path("index.txt"));
    std::ofstream(Path("serial")) << "1000\n";
  }
  if (auto s = Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
                   name + ".key -out " + name + ".csr -subj /CN=" + common_name);
      !s.ok()) {
    return s;
  }
  return Run("openssl ca -batch -notext -config ca.cnf -cert ca.pem -keyfile ca.key -startdate " +
             start + " -enddate " + end + " -in " + name + ".csr -out " + name + ".pem");
}

std::string TestPki::Read(const std::string& file) const {
  std::ifstream in(Path(file));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status TestPki::Run(const std::string& command) const {
  const std::string line = "cd '" + dir_ + "' && " + command + " >/dev/null 2>&1";
  if (std::system(line.c_str()) != 0) return absl::InternalError("failed: " + command);
  return absl::OkStatus();
}

}  // namespace psc::testing
