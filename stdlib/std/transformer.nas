// std.transformer: transformer encoder layers and 1-D convolutional blocks
// for sequence spaces (language version 1, issue 15).
//
// `import std.transformer` makes these blocks available:
//
//   PatchEmbed(x, size, dim)            image Tensor[c, h, w] -> tokens Tensor[(h/size)*(w/size), dim] (ViT stem)
//   TokenEmbed(x, vocab, dim)           token ids Tensor[t] -> Tensor[t, dim], learned positions
//   FeedForward(x, hidden, act = gelu)  per-token dense -> act -> dense back to the width
//   ConvMixer(x, kernel = 3)            depthwise 1-D convolution over the tokens (keeps Tensor[t, d])
//   EncoderLayer(x, heads, hidden, prenorm = true, conv = false, kernel = 3, causal = false)
//                                       one encoder layer: token mixer + feed-forward, residuals, layernorm
//   Classifier(x, classes)              layernorm -> mean over tokens -> dense
//   TCBlock(x, filters, kernel, stride = 1, act = relu)      conv1d -> batchnorm -> act on Tensor[c, l]
//   SepConv1d(x, filters, kernel, act = relu)                depthwise + pointwise conv1d (MatchboxNet style)
//   TCResidual(x, kernel, dilation = 1, act = relu)          two dilated conv1d-BN layers and a shortcut
//
// Sequences are Tensor[t, d]: t tokens (time steps) of width d.  The 1-D
// convolution blocks work channels-first on Tensor[c, l], as conv1d does:
// `transpose` turns one layout into the other.
//
// Like std.blocks, no block here makes a choice: the layer's searched
// options (heads, the feed-forward width, pre- or post-norm, attention or a
// convolution as the token mixer, as in FlexiBERT's heterogeneous layers)
// are parameters, and the space decides them.  `attention(h, heads)` without
// head_dim needs heads to divide the width: the checker proves it for every
// point that runs the attention branch, or shows the counterexample.

// The ViT stem (Dosovitskiy et al. 2021): non-overlapping size x size
// patches, each projected to dim, plus a learned position code.
block PatchEmbed(x: Tensor[c, h, w], size: int, dim: int) -> Tensor[(h / size) * (w / size), dim] {
    return positional(dense(patches(x, size), dim))
}

// Token ids (Tensor[t] of integers in [0, vocab)) to vectors with a
// learned position code.
block TokenEmbed(x: Tensor[t], vocab: int, dim: int) -> Tensor[t, dim] {
    return positional(embedding(x, vocab, dim))
}

// The position-wise feed-forward part: d -> hidden -> d on each token.
block FeedForward(x: Tensor[t, d], hidden: int, act: Act = gelu) -> Tensor[t, d] {
    return dense(act(dense(x, hidden)), d)
}

// A convolution as the token mixer: a depthwise conv1d over the t steps of
// each of the d features (pad = same keeps t; the kernel must be odd).
block ConvMixer(x: Tensor[t, d], kernel: int = 3) -> Tensor[t, d] {
    return transpose(conv1d(transpose(x), d, kernel = kernel, groups = d))
}

// One encoder layer: x + mixer(norm(x)), then + FeedForward(norm(.)) with
// prenorm (the ViT/GPT-2 order); with prenorm = false the norms follow the
// residual additions (the original Transformer's order).  conv = true
// replaces attention by ConvMixer.
block EncoderLayer(x: Tensor[t, d], heads: int, hidden: int, prenorm: bool = true, conv: bool = false,
                   kernel: int = 3, causal: bool = false) -> Tensor[t, d] {
    let h = x
    if prenorm {
        h = layernorm(x)
    }
    if conv {
        h = ConvMixer(h, kernel)
    } else {
        h = attention(h, heads, causal = causal)
    }
    let y = x + h
    if not prenorm {
        y = layernorm(y)
    }
    let f = y
    if prenorm {
        f = layernorm(y)
    }
    let z = y + FeedForward(f, hidden)
    if not prenorm {
        z = layernorm(z)
    }
    return z
}

// The head of an encoder: the tokens' mean after a final layernorm.
block Classifier(x: Tensor[t, d], classes: int) -> Tensor[classes] {
    return dense(mean_tokens(layernorm(x)), classes)
}

// ---- 1-D convolutional blocks on Tensor[c, l] (keyword spotting, time series) ----

// conv1d -> batchnorm -> act; a stride-s conv maps l to ceil(l / s).
block TCBlock(x: Tensor[c, l], filters: int, kernel: int, stride: int = 1, act: Act = relu) ->
        Tensor[filters, (l + stride - 1) / stride] {
    return act(batchnorm(conv1d(x, filters, kernel = kernel, stride = stride, bias = false)))
}

// Depthwise-separable 1-D convolution (MatchboxNet, MicroNets): a
// per-channel kernel over time, then a pointwise mix of the channels.
block SepConv1d(x: Tensor[c, l], filters: int, kernel: int, act: Act = relu) -> Tensor[filters, l] {
    let y = conv1d(x, c, kernel = kernel, groups = c, bias = false)
    return act(batchnorm(conv1d(y, filters, kernel = 1, bias = false)))
}

// A temporal residual block (TCN, EfficientTDNN): two dilated conv1d-BN
// layers keeping Tensor[c, l], and the shortcut.
block TCResidual(x: Tensor[c, l], kernel: int, dilation: int = 1, act: Act = relu) -> Tensor[c, l] {
    let y = act(batchnorm(conv1d(x, c, kernel = kernel, dilation = dilation, bias = false)))
    y = batchnorm(conv1d(y, c, kernel = kernel, dilation = dilation, bias = false))
    return act(x + y)
}
