// JSONL records in the format of ../shared/data (see docs/synth.md).
#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "phigate/core/json_escape.h"
#include "phigate/core/utf8.h"
#include "phigate/synth/generator.h"

namespace phigate::synth {
namespace {

std::string_view ReferenceType(ReferenceKind k) {
  switch (k) {
    case ReferenceKind::kYear:
      return "DATE";
    case ReferenceKind::kState:
      return "LOCATION";
    case ReferenceKind::kAge:
      return "AGE";
    case ReferenceKind::kFacilityType:
      return "ORGANIZATION";
  }
  return "ID";
}
std::string_view ReferenceCategory(ReferenceKind k) {
  switch (k) {
    case ReferenceKind::kYear:
      return "YEAR";
    case ReferenceKind::kState:
      return "STATE";
    case ReferenceKind::kAge:
      return "AGE_UNDER_90";
    case ReferenceKind::kFacilityType:
      return "FACILITY_TYPE";
  }
  return "ID";
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

std::string NoteToJson(const Note& note, OffsetUnit unit) {
  std::optional<Utf8OffsetMap> map;
  if (unit == OffsetUnit::kCodePoint) map.emplace(note.text);
  auto off = [&](size_t b) { return map ? map->ToCodePoint(b) : b; };

  struct Item {
    size_t begin, end;
    bool phi;
    size_t index;
  };
  std::vector<Item> items;
  items.reserve(note.spans.size() + note.references.size());
  for (size_t i = 0; i < note.spans.size(); ++i) {
    items.push_back({note.spans[i].begin, note.spans[i].end, true, i});
  }
  for (size_t i = 0; i < note.references.size(); ++i) {
    items.push_back({note.references[i].begin, note.references[i].end, false, i});
  }
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.begin < b.begin; });

  std::string out;
  out.reserve(note.text.size() * 2 + 64 * items.size() + 128);
  out.append("{\"id\":");
  AppendJsonString(note.id, &out);
  out.append(",\"patient_id\":");
  AppendJsonString(note.patient_id, &out);
  out.append(",\"style\":");
  AppendJsonString(note.style, &out);
  out.append(",\"text\":");
  AppendJsonString(note.text, &out);
  out.append(",\"spans\":[");
  bool first = true;
  for (const Item& it : items) {
    if (!first) out.push_back(',');
    first = false;
    absl::StrAppend(&out, "{\"start\":", off(it.begin), ",\"end\":", off(it.end), ",\"type\":");
    if (it.phi) {
      const PhiCategory c = note.spans[it.index].category;
      AppendJsonString(CategoryEvalType(c), &out);
      out.append(",\"category\":");
      AppendJsonString(CategoryName(c), &out);
      out.append(",\"phi\":true");
    } else {
      const ReferenceKind k = note.references[it.index].kind;
      AppendJsonString(ReferenceType(k), &out);
      out.append(",\"category\":");
      AppendJsonString(ReferenceCategory(k), &out);
      out.append(",\"phi\":false");
      if (k == ReferenceKind::kYear) out.append(",\"year_only\":true");
    }
    out.append(",\"text\":");
    AppendJsonString(std::string_view(note.text).substr(it.begin, it.end - it.begin), &out);
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace phigate::synth
