"""The seed article's experiment on qlite: TensorFlow's quantization-aware training recipe, imports changed.

Steps: 1. train the float model; 2. quantization-aware training of the whole
model (quantize_model) and of the Dense layer only (clone_model +
quantize_annotate_layer + quantize_apply), each fine-tuned on 1,000 images
with batch 500; 3. evaluate; 4. convert (dynamic range, full integer,
float16, and the QAT models) and evaluate every .tflite file with the
Interpreter, image by image. Prints the comparison table.

The code is TensorFlow's (the QAT guide and the post-training quantization
guides); only the three imports below differ. Run it after the README's
set-up:   PYTHONPATH=build/python python3 examples/python/seed_article.py
It writes the .tflite files to $QLITE_ARTICLE_OUT (default: a temporary
directory) and, when $QLITE_ARTICLE_JSON is set, the table as JSON there.
"""
import json
import os
import tempfile

import numpy as np

import qlite.tf as tf  # was: import tensorflow as tf
from qlite.tf import keras  # was: from tensorflow import keras
import qlite.tfmot as tfmot  # was: import tensorflow_model_optimization as tfmot

# Load the dataset.
fashion_mnist = keras.datasets.fashion_mnist
(train_images, train_labels), (test_images, test_labels) = fashion_mnist.load_data()

# Normalize the input image so that each pixel value is between 0 and 1.
train_images = train_images / 255.0
test_images = test_images / 255.0

# Step 1: define and train the float model.
model = keras.Sequential([
    keras.layers.InputLayer(input_shape=(28, 28)),
    keras.layers.Reshape(target_shape=(28, 28, 1)),
    keras.layers.Conv2D(filters=12, kernel_size=(3, 3), activation='relu'),
    keras.layers.MaxPooling2D(pool_size=(2, 2)),
    keras.layers.Flatten(),
    keras.layers.Dense(10)
])

model.compile(optimizer='adam',
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])

model.fit(
    train_images,
    train_labels,
    epochs=1,
    validation_split=0.1,
)

# Step 2: quantization-aware training of the whole model.
quantize_model = tfmot.quantization.keras.quantize_model

# q_aware stands for quantization aware.
q_aware_model = quantize_model(model)

# `quantize_model` requires a recompile.
q_aware_model.compile(optimizer='adam',
                      loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=['accuracy'])

q_aware_model.summary()

train_images_subset = train_images[0:1000]  # out of 60000
train_labels_subset = train_labels[0:1000]

q_aware_model.fit(train_images_subset, train_labels_subset,
                  batch_size=500, epochs=1, validation_split=0.1)


# ... and of the Dense layer only.
def apply_quantization_to_dense(layer):
    if isinstance(layer, tf.keras.layers.Dense):
        return tfmot.quantization.keras.quantize_annotate_layer(layer)
    return layer


annotated_model = tf.keras.models.clone_model(
    model,
    clone_function=apply_quantization_to_dense,
)

dense_q_aware_model = tfmot.quantization.keras.quantize_apply(annotated_model)
dense_q_aware_model.compile(optimizer='adam',
                            loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                            metrics=['accuracy'])
dense_q_aware_model.fit(train_images_subset, train_labels_subset,
                        batch_size=500, epochs=1, validation_split=0.1)

# Step 3: evaluate against the baseline.
_, baseline_model_accuracy = model.evaluate(test_images, test_labels, verbose=0)
_, q_aware_model_accuracy = q_aware_model.evaluate(test_images, test_labels, verbose=0)
_, dense_q_aware_model_accuracy = dense_q_aware_model.evaluate(test_images, test_labels, verbose=0)

print('Baseline test accuracy:', baseline_model_accuracy)
print('Quant test accuracy:', q_aware_model_accuracy)
print('Dense-only quant test accuracy:', dense_q_aware_model_accuracy)

# Step 4: convert.
# Dynamic range quantization of the float model.
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
dynamic_tflite_model = converter.convert()


# Full integer post-training quantization of the float model.
def representative_data_gen():
    for input_value in tf.data.Dataset.from_tensor_slices(train_images).batch(1).take(100):
        yield [input_value]


converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.representative_dataset = representative_data_gen
converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
converter.inference_input_type = tf.int8
converter.inference_output_type = tf.int8
full_integer_tflite_model = converter.convert()

# Float16 quantization of the float model.
converter = tf.lite.TFLiteConverter.from_keras_model(model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
converter.target_spec.supported_types = [tf.float16]
float16_tflite_model = converter.convert()

# The quantization-aware models.
converter = tf.lite.TFLiteConverter.from_keras_model(q_aware_model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
quantized_tflite_model = converter.convert()

converter = tf.lite.TFLiteConverter.from_keras_model(dense_q_aware_model)
converter.optimizations = [tf.lite.Optimize.DEFAULT]
dense_quantized_tflite_model = converter.convert()


def evaluate_model(interpreter):
    input_details = interpreter.get_input_details()[0]
    input_index = input_details["index"]
    output_index = interpreter.get_output_details()[0]["index"]

    # Run predictions on every image in the "test" dataset.
    prediction_digits = []
    for i, test_image in enumerate(test_images):
        # Pre-processing: add batch dimension and convert to the input's type.
        test_image = np.expand_dims(test_image, axis=0).astype(np.float32)
        if input_details["dtype"] == np.int8:
            # As TFLite 2.9's QUANTIZE: divided in double, rounded half away from zero.
            input_scale, input_zero_point = input_details["quantization"]
            v = test_image.astype(np.float64) / input_scale
            r = np.where(np.abs(v - np.trunc(v)) == 0.5, np.trunc(v) + np.sign(v), np.round(v))
            test_image = np.clip(r + input_zero_point, -128, 127).astype(np.int8)
        interpreter.set_tensor(input_index, test_image)

        # Run inference.
        interpreter.invoke()

        # Post-processing: remove batch dimension and find the digit with highest probability.
        output = interpreter.tensor(output_index)
        digit = np.argmax(output()[0])
        prediction_digits.append(digit)

    # Compare prediction results with ground truth labels to calculate accuracy.
    prediction_digits = np.array(prediction_digits)
    accuracy = (prediction_digits == test_labels).mean()
    return accuracy


out_dir = os.environ.get("QLITE_ARTICLE_OUT") or tempfile.mkdtemp()
rows = []
for name, tflite_model in [("dynamic", dynamic_tflite_model),
                           ("int8-ptq-int8io", full_integer_tflite_model),
                           ("float16", float16_tflite_model),
                           ("qat-whole-article", quantized_tflite_model),
                           ("qat-dense-seed", dense_quantized_tflite_model)]:
    path = os.path.join(out_dir, name + ".tflite")
    with open(path, "wb") as f:
        f.write(tflite_model)
    interpreter = tf.lite.Interpreter(model_content=tflite_model)
    interpreter.allocate_tensors()
    rows.append({"name": name, "file": path, "size_bytes": len(tflite_model),
                 "test_accuracy": float(evaluate_model(interpreter))})

print()
print("| model | Keras test accuracy | .tflite test accuracy | size (bytes) |")
print("|---|---|---|---|")
print("| float baseline | %.4f | | |" % baseline_model_accuracy)
print("| QAT whole model (seed recipe) | %.4f | | |" % q_aware_model_accuracy)
print("| QAT Dense only (seed recipe) | %.4f | | |" % dense_q_aware_model_accuracy)
for r in rows:
    print("| %s | | %.4f | %d |" % (r["name"], r["test_accuracy"], r["size_bytes"]))
print("\nwrote the .tflite files to %s" % out_dir)

if os.environ.get("QLITE_ARTICLE_JSON"):
    with open(os.environ["QLITE_ARTICLE_JSON"], "w") as f:
        json.dump({"baseline_accuracy": baseline_model_accuracy, "qat_whole_accuracy": q_aware_model_accuracy,
                   "qat_dense_accuracy": dense_q_aware_model_accuracy, "tflite": rows}, f, indent=2)
