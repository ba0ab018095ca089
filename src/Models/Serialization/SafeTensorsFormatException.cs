namespace Plateau.Models.Serialization;

/// <summary>A safetensors file that is not well formed: the message says what is wrong and where.</summary>
public sealed class SafeTensorsFormatException : FormatException
{
    public SafeTensorsFormatException(string message) : base(message)
    {
    }

    public SafeTensorsFormatException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public SafeTensorsFormatException()
    {
    }
}
