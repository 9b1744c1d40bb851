// A RapidJSON document for the hot path. RapidJSON takes its first 64 KiB
// chunk from malloc and frees it after every parse, and glibc consolidates
// the whole heap when a chunk that large is freed. Here the chunk is a
// per-thread buffer instead (or, while another PooledDocument on the same
// thread holds it, one of its own).
#pragma once

#include <rapidjson/document.h>

#include <cstddef>
#include <memory>

namespace sfmc {

class PooledDocument {
 public:
  PooledDocument() : pool_(lease_.data, kBytes), doc_(&pool_) {}
  PooledDocument(const PooledDocument&) = delete;
  PooledDocument& operator=(const PooledDocument&) = delete;

  rapidjson::Document& doc() { return doc_; }

 private:
  static constexpr size_t kBytes = 64 * 1024;

  struct Lease {
    Lease() {
      if (!held()) {
        held() = true;
        data = shared();
      } else {
        own = std::make_unique<char[]>(kBytes);
        data = own.get();
      }
    }
    ~Lease() {
      if (!own) held() = false;
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    static bool& held() {
      thread_local bool in_use = false;
      return in_use;
    }
    static char* shared() {
      thread_local std::unique_ptr<char[]> buffer = std::make_unique<char[]>(kBytes);
      return buffer.get();
    }
    std::unique_ptr<char[]> own;
    char* data = nullptr;
  };

  Lease lease_;  // first: outlives the allocator and the document
  rapidjson::MemoryPoolAllocator<> pool_;
  rapidjson::Document doc_;
};

}  // namespace sfmc
