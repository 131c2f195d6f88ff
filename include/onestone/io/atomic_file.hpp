#pragma once
/// @file atomic_file.hpp
/// Atomic file replacement (POSIX): write a temporary file in the target's folder, flush and
/// fsync it, then `rename()` it over the target, so readers see either the old file or the new
/// one, never a partial write.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "onestone/config.hpp"

namespace onestone::io {

/// Options of an atomic write.
///
/// Fields:
/// - `durable` (default true): fsync the temporary file before the rename and the folder after
///   it, so the new content survives a power loss. Turning it off only skips the fsync calls
///   (the replacement stays atomic for other processes).
/// - `fail_after_bytes` (default -1 = never): **testing aid**. When >= 0, the write fails as
///   if the disk had filled up (`ENOSPC`) once that many bytes have reached the temporary file.
///   It lets tests check that a failed write leaves the previous file intact and removes the
///   temporary file. Production code leaves it at -1.
///
/// @code
/// onestone::io::AtomicWriteOptions opts;
/// opts.fail_after_bytes = 100;   // simulate a full disk after 100 bytes (tests only)
/// @endcode
struct AtomicWriteOptions {
  bool durable = true;
  std::int64_t fail_after_bytes = -1;
};

/// A file being written atomically: bytes go to a uniquely named temporary file next to the
/// target; `commit()` fsyncs it and renames it over the target. If the object is destroyed
/// without a successful `commit()` (an exception, an early return), the temporary file is
/// removed and the target is left exactly as it was.
///
/// Every failure throws std::runtime_error naming the target path, the step and the `errno`
/// text; the temporary file is removed before the exception leaves.
///
/// @code
/// {
///   onestone::io::AtomicFile f("model.safetensors");
///   f.write(header.data(), header.size());
///   f.write(payload.data(), payload.size());
///   f.commit();                 // now "model.safetensors" holds the new bytes
/// }
/// @endcode
class AtomicFile {
 public:
  /// Creates the temporary file in the folder of `path` (mode 0666 minus the umask).
  explicit AtomicFile(std::string path, const AtomicWriteOptions& options = AtomicWriteOptions());
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Removes the temporary file unless `commit()` succeeded.
  ~AtomicFile() { discard(); }

  /// Appends `size` bytes (retries short writes and EINTR).
  void write(const void* data, std::size_t size);
  /// Appends the bytes of `bytes`.
  void write(const std::vector<unsigned char>& bytes) { write(bytes.data(), bytes.size()); }
  /// Appends the characters of `s`.
  void write(const std::string& s) { write(s.data(), s.size()); }

  /// Flushes, fsyncs (when durable), closes and renames the temporary file over the target,
  /// then fsyncs the folder (when durable). After a throw the target is unchanged.
  void commit();

  /// Bytes written so far.
  std::uint64_t bytes_written() const noexcept { return written_; }
  /// The target path.
  const std::string& path() const noexcept { return path_; }
  /// The temporary file's path (exists until `commit()` or destruction).
  const std::string& temp_path() const noexcept { return tmp_; }

 private:
  // Closes and removes the temporary file (no-op after a successful commit).
  void discard() noexcept {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!committed_ && !tmp_.empty()) {
      ::unlink(tmp_.c_str());
      tmp_.clear();
    }
  }
  [[noreturn]] void fail(const std::string& what, int err) {
    discard();
    throw std::runtime_error("atomic write of '" + path_ + "': " + what + ": " +
                             std::strerror(err));
  }
  // Makes the rename durable. The new file is already in place, so a folder that cannot be
  // opened or synced (some file systems refuse) is not reported as a failed write.
  void sync_folder() noexcept {
    const std::size_t slash = path_.find_last_of('/');
    const std::string dir = slash == std::string::npos
                                ? std::string(".")
                                : (slash == 0 ? std::string("/") : path_.substr(0, slash));
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    while (::fsync(dfd) != 0 && errno == EINTR) {
    }
    ::close(dfd);
  }

  std::string path_;
  std::string tmp_;
  AtomicWriteOptions options_;
  int fd_ = -1;
  std::uint64_t written_ = 0;
  bool committed_ = false;
};

#if ONESTONE_DEFINE_FUNCTIONS
ONESTONE_FUNC AtomicFile::AtomicFile(std::string path, const AtomicWriteOptions& options)
    : path_(std::move(path)), options_(options) {
  if (path_.empty()) throw std::invalid_argument("AtomicFile: empty path");
  if (path_.back() == '/') throw std::invalid_argument("AtomicFile: '" + path_ + "' is a folder");
  const std::size_t slash = path_.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string() : path_.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  static std::atomic<std::uint64_t> counter{0};
  for (int attempt = 0; attempt < 100; ++attempt) {
    const auto ticks =
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    tmp_ = dir + "." + base + ".tmp." + std::to_string(::getpid()) + "." +
           std::to_string(counter.fetch_add(1)) + "." + std::to_string(ticks % 1000000007ULL);
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd_ >= 0) return;
    const int err = errno;
    if (err != EEXIST) {
      const std::string tried = tmp_;
      tmp_.clear();  // not ours: never remove it
      fail("cannot create temporary file '" + tried + "'", err);
    }
  }
  tmp_.clear();
  fail("cannot create a unique temporary file next to it", EEXIST);
}

ONESTONE_FUNC void AtomicFile::write(const void* data, std::size_t size) {
  if (fd_ < 0) throw std::logic_error("AtomicFile::write: '" + path_ + "' is already closed");
  const auto* p = static_cast<const unsigned char*>(data);
  while (size > 0) {
    std::size_t chunk = size < (std::size_t(1) << 30) ? size : (std::size_t(1) << 30);
    bool simulate = false;
    if (options_.fail_after_bytes >= 0) {
      const auto room = static_cast<std::uint64_t>(options_.fail_after_bytes) > written_
                            ? static_cast<std::uint64_t>(options_.fail_after_bytes) - written_
                            : 0;
      if (room < chunk) {
        chunk = static_cast<std::size_t>(room);
        simulate = chunk == 0;
      }
    }
    if (simulate)
      fail("write to '" + tmp_ + "' failed at byte offset " + std::to_string(written_) +
               " (simulated by AtomicWriteOptions::fail_after_bytes)",
           ENOSPC);
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write to '" + tmp_ + "' failed at byte offset " + std::to_string(written_), errno);
    }
    if (n == 0)
      fail("write to '" + tmp_ + "' made no progress at byte offset " + std::to_string(written_),
           EIO);
    p += n;
    size -= static_cast<std::size_t>(n);
    written_ += static_cast<std::uint64_t>(n);
  }
}

ONESTONE_FUNC void AtomicFile::commit() {
  if (fd_ < 0) throw std::logic_error("AtomicFile::commit: '" + path_ + "' is already closed");
  if (options_.durable) {
    while (::fsync(fd_) != 0)
      if (errno != EINTR) fail("fsync of '" + tmp_ + "' failed", errno);
  }
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0 && errno != EINTR) fail("close of '" + tmp_ + "' failed", errno);
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    fail("rename of '" + tmp_ + "' over it failed", errno);
  committed_ = true;
  if (options_.durable) sync_folder();
}
#endif  // ONESTONE_DEFINE_FUNCTIONS

/// Replaces the file at `path` with `size` bytes from `data`, atomically (see `AtomicFile`).
/// Throws std::runtime_error naming `path` and the `errno` text; on failure the previous file
/// is unchanged and no temporary file remains.
///
/// @code
/// std::string text = "hello\n";
/// onestone::io::write_file_atomic("greeting.txt", text.data(), text.size());
/// @endcode
ONESTONE_FUNC void write_file_atomic(const std::string& path, const void* data, std::size_t size,
                                     const AtomicWriteOptions& options = AtomicWriteOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  AtomicFile f(path, options);
  f.write(data, size);
  f.commit();
}
#else
    ;
#endif

/// Replaces the file at `path` with `bytes`, atomically. Example:
/// `onestone::io::write_file_atomic("blob.bin", bytes);`
ONESTONE_FUNC void write_file_atomic(const std::string& path,
                                     const std::vector<unsigned char>& bytes,
                                     const AtomicWriteOptions& options = AtomicWriteOptions())
#if ONESTONE_DEFINE_FUNCTIONS
{
  write_file_atomic(path, bytes.data(), bytes.size(), options);
}
#else
    ;
#endif

}  // namespace onestone::io
