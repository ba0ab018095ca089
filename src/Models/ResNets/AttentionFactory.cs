using static TorchSharp.torch;

namespace Plateau.Models.ResNets;

/// <summary>
/// Builds the optional attention module a block applies to its residual branch after the last BN and
/// before the addition (timm's <c>attn_layer</c>); the argument is the branch's output channels.
/// </summary>
public delegate nn.Module<Tensor, Tensor> AttentionFactory(long channels);
