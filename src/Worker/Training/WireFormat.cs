using Plateau.Collective;
using Plateau.Contracts.Specs;

namespace Plateau.Worker.Training;

/// <summary>The spec's <c>communication.compression</c> as the collective's element encoding.</summary>
internal static class WireFormat
{
    public static WireCompression Of(GradientCompression compression) => compression switch
    {
        GradientCompression.None => WireCompression.None,
        GradientCompression.BFloat16 => WireCompression.BFloat16,
        GradientCompression.Float16 => WireCompression.Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(compression), compression, "unknown gradient compression"),
    };
}
