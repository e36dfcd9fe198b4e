// MLP-S of bench/README-infer.md (784 -> 256 relu -> 10) for the int8
// benchmark (bench/int8_bench.sh): one point, trained on Fashion-MNIST.
space MLP_S(x: Tensor[1, 28, 28]) -> Tensor[10] {
    return dense(relu(dense(flatten(x), 256)), 10)
}

train {
    data      = fashion_mnist
    split     = 0.1
    epochs    = 5
    batch     = 128
    normalize = standard
    optimizer = sgd(lr = 0.05, momentum = 0.9)
}
