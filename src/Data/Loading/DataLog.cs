using Microsoft.Extensions.Logging;

namespace Plateau.Data.Loading;

internal static partial class DataLog
{
    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Skipping bad sample {Index} ({Source}): {Reason}")]
    public static partial void BadSample(ILogger logger, int index, string source, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Too many bad samples: {Bad} of {Planned} exceed the {Fraction:P2} limit")]
    public static partial void TooManyBadSamples(ILogger logger, int bad, int planned, double fraction);
}
