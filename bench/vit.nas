// vit.nas: the fixed ViT of the sequence benchmark (bench/vit_bench.sh):
// 7x7 patches of Fashion-MNIST (16 tokens), width 64, 4 pre-norm encoder
// layers of 4 heads and a 128-wide gelu feed-forward part, mean over the
// tokens.  bench/vit_torch.py builds the same network from
// nn.TransformerEncoderLayer (norm_first, gelu, no dropout).
import std.transformer

space ViT(x: Tensor[1, 28, 28]) -> Tensor[10] {
    h = PatchEmbed(x, 7, 64)
    for i in 1..4 {
        h = EncoderLayer(h, 4, 128)
    }
    return Classifier(h, 10)
}

train {
    data      = fashion_mnist
    epochs    = 1
    batch     = 128
    optimizer = adam(lr = 1e-3)
    threads   = 1
}
