namespace Plateau.Data.Datasets;

/// <summary>A dataset as a whole is malformed (wrong layout, bad header, checksum mismatch); the message names the file and the problem.</summary>
public sealed class DatasetFormatException : Exception
{
    public DatasetFormatException()
    {
    }

    public DatasetFormatException(string message)
        : base(message)
    {
    }

    public DatasetFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
