namespace Plateau.Models.Serialization;

/// <summary>
/// A state dict that does not fit the model: missing, unexpected or wrongly shaped tensors, each
/// named in the message and listed in the properties. Nothing was loaded.
/// </summary>
public sealed class StateDictMismatchException : InvalidOperationException
{
    public StateDictMismatchException(string message, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> wrongShape) : base(message)
    {
        Missing = missing;
        Unexpected = unexpected;
        WrongShape = wrongShape;
    }

    public StateDictMismatchException() : this("State dict does not match the model.", [], [], [])
    {
    }

    public StateDictMismatchException(string message) : this(message, [], [], [])
    {
    }

    public StateDictMismatchException(string message, Exception innerException) : base(message, innerException)
    {
        Missing = [];
        Unexpected = [];
        WrongShape = [];
    }

    public IReadOnlyList<string> Missing { get; }

    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present in both whose shapes differ.</summary>
    public IReadOnlyList<string> WrongShape { get; }
}
