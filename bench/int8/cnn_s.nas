// CNN-S of bench/README-infer.md (conv 16 relu pool, conv 32 relu pool,
// dense 128 relu, dense 10) for the int8 benchmark (bench/int8_bench.sh).
space CNN_S(x: Tensor[1, 28, 28]) -> Tensor[10] {
    h = maxpool(relu(conv2d(x, 16, kernel = 3)), 2)
    h = maxpool(relu(conv2d(h, 32, kernel = 3)), 2)
    return dense(relu(dense(flatten(h), 128)), 10)
}

train {
    data      = fashion_mnist
    split     = 0.1
    epochs    = 3
    batch     = 128
    normalize = standard
    optimizer = sgd(lr = 0.05, momentum = 0.9)
}
