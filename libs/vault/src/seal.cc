#include "psc/vault/seal.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

#include "psc/domain/strings.h"

namespace psc::vault {
namespace {

constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherContext = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string NewKey() {
  std::string key(kKeyBytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), kKeyBytes);
  return key;
}

absl::StatusOr<std::string> Seal(std::string_view key, std::string_view plaintext,
                                 std::string_view associated) {
  if (key.size() != kKeyBytes) return absl::InvalidArgumentError("seal: the key must be 32 bytes");
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(nonce, kNonceBytes) != 1) return absl::InternalError("seal: no random nonce");
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  auto* body = nonce + kNonceBytes;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &n, Bytes(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), body, &n, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), body + n, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, body + plaintext.size()) != 1) {
    return absl::InternalError("seal: AES-256-GCM failed");
  }
  return out;
}

absl::StatusOr<std::string> Unseal(std::string_view key, std::string_view sealed,
                                   std::string_view associated) {
  if (key.size() != kKeyBytes) return absl::InvalidArgumentError("unseal: the key must be 32 bytes");
  if (sealed.size() < static_cast<size_t>(kNonceBytes + kTagBytes)) {
    return absl::DataLossError("unseal: too short to be a sealed text");
  }
  const size_t length = sealed.size() - kNonceBytes - kTagBytes;
  std::string out(length, '\0');
  std::string tag(sealed.substr(kNonceBytes + length));
  CipherContext ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  int n = 0;
  auto* plain = reinterpret_cast<unsigned char*>(out.data());
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(sealed)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &n, Bytes(associated),
                        static_cast<int>(associated.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), plain, &n, Bytes(sealed) + kNonceBytes,
                        static_cast<int>(length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), plain + n, &n) != 1) {
    return absl::DataLossError("unseal: the sealed text does not open with this key");
  }
  return out;
}

}  // namespace psc::vault
