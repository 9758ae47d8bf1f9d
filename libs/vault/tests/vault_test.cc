#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "psc/testing/process.h"
#include "psc/vault/key_store.h"
#include "psc/vault/seal.h"

namespace psc::vault {
namespace {

using ::testing::HasSubstr;

TEST(SealTest, OpensWithItsKeyAndIdOnly) {
  const std::string key = NewKey();
  ASSERT_EQ(key.size(), kKeyBytes);
  auto sealed = Seal(key, "Falls huddles cut harm by a third", "l-17");
  ASSERT_TRUE(sealed.ok()) << sealed.status();
  EXPECT_EQ(sealed->size(), 12 + 33 + 16u);
  EXPECT_THAT(*sealed, ::testing::Not(HasSubstr("Falls")));
  auto opened = Unseal(key, *sealed, "l-17");
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, "Falls huddles cut harm by a third");
  // The same text twice seals differently (a fresh nonce).
  EXPECT_NE(*Seal(key, "Falls huddles cut harm by a third", "l-17"), *sealed);

  EXPECT_EQ(Unseal(NewKey(), *sealed, "l-17").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Unseal(key, *sealed, "l-18").status().code(), absl::StatusCode::kDataLoss);
  std::string flipped = *sealed;
  flipped[20] ^= 1;
  EXPECT_EQ(Unseal(key, flipped, "l-17").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Unseal(key, "short", "l-17").status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Seal("short key", "x", "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(KeyStoreTest, KeysLiveUntilDestroyedAndAreSharedByEveryOpener) {
  testing::TempDir dir;
  auto store = KeyStore::Open(dir.Sub("keys"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto id = store->Create();
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), 32u);
  auto key = store->Get(*id);
  ASSERT_TRUE(key.ok() && key->has_value());
  EXPECT_EQ((*key)->size(), kKeyBytes);
  EXPECT_EQ(std::filesystem::status(dir.Sub("keys")).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_all);

  // Another process's view of the folder sees the same key, and its
  // destruction.
  auto other = KeyStore::Open(dir.Sub("keys"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(**other->Get(*id), **key);
  ASSERT_TRUE(store->Destroy(*id).ok());
  EXPECT_FALSE(other->Get(*id)->has_value());
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("keys/" + *id + ".key")));
  EXPECT_TRUE(store->Destroy(*id).ok()) << "a retried erasure";

  EXPECT_EQ(store->Get("../../etc/passwd").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(*store->Create(), *id);
}

}  // namespace
}  // namespace psc::vault
