// Model::summary(): the table Keras prints.
#include <sstream>

#include "qlite/train/model.h"

namespace qlite {

namespace {

// 20410 -> "20,410", as Keras prints totals.
std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

// Keras's print_row: each field starts where the previous column stops and
// is cut at its own stop; the last character before a column is a space.
std::string row(const std::vector<std::string>& fields, const std::vector<size_t>& stops) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.back() = ' ';
    line += fields[i];
    line.resize(stops[i], ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

std::string summarize(const Model& m) {
  const bool sequential = m.class_name() == "Sequential";
  const size_t width = sequential ? 65 : 98;
  const std::vector<size_t> stops =
      sequential ? std::vector<size_t>{29, 55, 65} : std::vector<size_t>{32, 53, 65, 98};
  std::vector<std::string> header{"Layer (type)", "Output Shape", "Param #"};
  if (!sequential) header.push_back("Connected to");

  std::ostringstream out;
  out << "Model: \"" << m.name() << "\"\n" << std::string(width, '_') << "\n";
  out << row(header, stops) << std::string(width, '=') << "\n";
  int64_t trainable = 0, total = 0;
  bool first = true;
  for (size_t i = 0; i < m.nodes().size(); ++i) {
    const Node& n = m.nodes()[i];
    if (n.call > 0) continue;  // a shared layer has one row, at its first call
    const Layer& l = *n.layer;
    int64_t params = 0;
    for (const Param* p : l.params()) {
      params += p->value.numel();
      if (p->trainable) trainable += p->value.numel();
    }
    total += params;
    if (sequential && i == 0) continue;  // Keras leaves the InputLayer out of Sequential summaries
    Shape shape{-1};
    shape.insert(shape.end(), l.output_shape().begin(), l.output_shape().end());
    std::vector<std::string> fields{l.name() + " (" + l.type() + ")", shape_str(shape),
                                    std::to_string(params)};
    if (!sequential) {
      // Every call's inputs, as Keras lists a shared layer's inbound nodes; a
      // later call of a shared producer is named with its node index.
      std::string from;
      for (const Node& c : m.nodes()) {
        if (c.layer != n.layer) continue;
        for (int k : c.inputs) {
          const Node& p = m.nodes()[static_cast<size_t>(k)];
          from += (from.empty() ? "" : ", ") + p.layer->name() + (p.call > 0 ? "[" + std::to_string(p.call) + "]" : "");
        }
      }
      fields.push_back(from);
    }
    if (!first) out << std::string(width, '_') << "\n";
    first = false;
    out << row(fields, stops);
  }
  out << std::string(width, '=') << "\n";
  out << "Total params: " << with_commas(total) << "\n";
  out << "Trainable params: " << with_commas(trainable) << "\n";
  out << "Non-trainable params: " << with_commas(total - trainable) << "\n";
  out << std::string(width, '_') << "\n";
  return out.str();
}

}  // namespace

std::string Model::summary() const {
  if (is_built()) return summarize(*this);
  // Shapes are only known once built; describe a built copy and leave this
  // model's (absent) weights alone.
  std::unique_ptr<Model> copy = clone();
  copy->build(0);
  return summarize(*copy);
}

}  // namespace qlite
