using Plateau.Models.Architecture;
using Plateau.Models.Counting;

namespace Plateau.Models.Zoo;

/// <summary>What <see cref="ModelRegistry.Describe"/> tells about a network without building it.</summary>
/// <param name="InputSize">The input side the cost was counted at (the native size unless options changed it).</param>
public sealed record ModelDescription(
    string Name,
    ModelFamily Family,
    int Depth,
    BlockKind Block,
    bool Residual,
    bool SqueezeExcitation,
    int NativeInputSize,
    int NumClasses,
    int InputSize,
    ModelCost Cost)
{
    public long Parameters => Cost.Parameters;

    public long MultiplyAdds => Cost.MultiplyAdds;
}
