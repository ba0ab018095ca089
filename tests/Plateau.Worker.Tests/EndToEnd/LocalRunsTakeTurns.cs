namespace Plateau.Worker.Tests.EndToEnd;

/// <summary>
/// The <c>plateau local</c> runs take turns: each is a whole cluster of processes on a 2-core machine,
/// and each picks its loopback ports free-at-the-time, which two runs at once could both pick.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LocalRunsTakeTurns
{
    public const string Name = "plateau local runs";
}
