// TensorCore.
