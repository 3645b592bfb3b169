#include "io/operation.hpp"

namespace iocaf::io {

namespace {
std::atomic<std::uint64_t> next_id{1};
std::atomic<std::int64_t> live{0};
std::atomic<std::int64_t> one_by_one{0};
std::atomic<std::int64_t> per_handle{0};
} // namespace

const char* to_string(op_kind k) {
  switch (k) {
    case op_kind::read: return "read";
    case op_kind::write: return "write";
    case op_kind::accept: return "accept";
    case op_kind::connect: return "connect";
    case op_kind::connect_pipe: return "connect_pipe";
    case op_kind::wait_fired: return "wait_fired";
    case op_kind::wait_unregistered: return "wait_unregistered";
    case op_kind::user: return "user";
  }
  return "?";
}

operation::operation(op_kind kind, std::size_t buffer_size)
  : start_(std::make_shared<start_record>()), kind_(kind), id_(next_id.fetch_add(1)), buffer_(buffer_size) {
  live.fetch_add(1);
}

operation::~operation() {
  magic_ = dead_magic;
  live.fetch_sub(1);
}

std::int64_t operation::live_count() {
  return live.load();
}

void operation::prepare(HANDLE h) {
  // The new record is made while the old one is still held, so their
  // addresses differ; the old one lives on in the in-flight table if a
  // packet may still name it.
  auto next = std::make_shared<start_record>();
  next->generation = generation_.load() + 1;
  start_ = std::move(next);
  target_ = h;
  generation_.store(start_->generation, std::memory_order_release);
  cancel_requested_.store(false);
}

unsigned long operation::cancel() {
  if (cancel_requested_.exchange(true) || target_ == nullptr)
    return 0;
  one_by_one.fetch_add(1);
  if (!CancelIoEx(target_, &start_->ov)) {
    DWORD code = GetLastError();
    if (code != ERROR_NOT_FOUND)
      return code;
  }
  return 0;
}

unsigned long operation::cancel_all_on(HANDLE h, const std::vector<operation*>& ops) {
  for (auto* op : ops)
    op->cancel_requested_.store(true);
  per_handle.fetch_add(1);
  if (!CancelIoEx(h, nullptr)) {
    DWORD code = GetLastError();
    if (code != ERROR_NOT_FOUND)
      return code;
  }
  return 0;
}

std::int64_t operation::cancels_one_by_one() {
  return one_by_one.load();
}

std::int64_t operation::cancels_per_handle() {
  return per_handle.load();
}

unsigned long start_read(operation& op, HANDLE h, std::size_t max_bytes) {
  if (op.buffer().size() < max_bytes)
    op.buffer().resize(max_bytes);
  if (ReadFile(h, op.buffer().data(), static_cast<DWORD>(max_bytes), nullptr, op.overlapped()))
    return 0;
  DWORD code = GetLastError();
  return packet_will_come(code) ? 0 : code;
}

unsigned long start_write(operation& op, HANDLE h, std::size_t bytes) {
  if (WriteFile(h, op.buffer().data(), static_cast<DWORD>(bytes), nullptr, op.overlapped()))
    return 0;
  DWORD code = GetLastError();
  return packet_will_come(code) ? 0 : code;
}

} // namespace iocaf::io
