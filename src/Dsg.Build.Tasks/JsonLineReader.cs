using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace Dsg.Build.Tasks;

/// <summary>
/// Reads one line of JSON into dictionaries, lists, strings, doubles, booleans and nulls. The task targets
/// netstandard2.0 and runs inside MSBuild (also Visual Studio's), where shipping System.Text.Json with its
/// dependencies would risk binding conflicts; the tool's JSON lines are small flat objects, so this suffices.
/// </summary>
internal sealed class JsonLineReader
{
    private readonly string _text;
    private int _pos;

    private JsonLineReader(string text) => _text = text;

    /// <summary>Parses <paramref name="line"/> as a JSON object; false when it is not one.</summary>
    public static bool TryReadObject(string line, out Dictionary<string, object?> value)
    {
        value = new Dictionary<string, object?>(StringComparer.Ordinal);
        var reader = new JsonLineReader(line);
        try
        {
            reader.SkipWhitespace();
            if (reader.Peek() != '{')
            {
                return false;
            }

            value = reader.ReadObject();
            reader.SkipWhitespace();
            return reader._pos == reader._text.Length;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private Dictionary<string, object?> ReadObject()
    {
        var result = new Dictionary<string, object?>(StringComparer.Ordinal);
        Expect('{');
        SkipWhitespace();
        if (Peek() == '}')
        {
            _pos++;
            return result;
        }

        while (true)
        {
            SkipWhitespace();
            string key = ReadString();
            SkipWhitespace();
            Expect(':');
            result[key] = ReadValue();
            SkipWhitespace();
            char c = Next();
            if (c == '}')
            {
                return result;
            }

            if (c != ',')
            {
                throw new FormatException("Expected ',' or '}'.");
            }
        }
    }

    private List<object?> ReadArray()
    {
        var result = new List<object?>();
        Expect('[');
        SkipWhitespace();
        if (Peek() == ']')
        {
            _pos++;
            return result;
        }

        while (true)
        {
            result.Add(ReadValue());
            SkipWhitespace();
            char c = Next();
            if (c == ']')
            {
                return result;
            }

            if (c != ',')
            {
                throw new FormatException("Expected ',' or ']'.");
            }
        }
    }

    private object? ReadValue()
    {
        SkipWhitespace();
        char c = Peek();
        switch (c)
        {
            case '{':
                return ReadObject();
            case '[':
                return ReadArray();
            case '"':
                return ReadString();
            case 't':
                ExpectWord("true");
                return true;
            case 'f':
                ExpectWord("false");
                return false;
            case 'n':
                ExpectWord("null");
                return null;
            default:
                return ReadNumber();
        }
    }

    private double ReadNumber()
    {
        int start = _pos;
        while (_pos < _text.Length && "+-0123456789.eE".IndexOf(_text[_pos]) >= 0)
        {
            _pos++;
        }

        if (!double.TryParse(_text.Substring(start, _pos - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            throw new FormatException("Bad number.");
        }

        return value;
    }

    private string ReadString()
    {
        Expect('"');
        var sb = new StringBuilder();
        while (true)
        {
            char c = Next();
            if (c == '"')
            {
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }

            char e = Next();
            switch (e)
            {
                case '"': sb.Append('"'); break;
                case '\\': sb.Append('\\'); break;
                case '/': sb.Append('/'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u':
                    if (_pos + 4 > _text.Length ||
                        !int.TryParse(_text.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                    {
                        throw new FormatException("Bad \\u escape.");
                    }

                    sb.Append((char)code);
                    _pos += 4;
                    break;
                default:
                    throw new FormatException("Bad escape.");
            }
        }
    }

    private void ExpectWord(string word)
    {
        if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0)
        {
            throw new FormatException("Expected " + word + ".");
        }

        _pos += word.Length;
    }

    private void Expect(char c)
    {
        if (Next() != c)
        {
            throw new FormatException("Expected '" + c + "'.");
        }
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : throw new FormatException("Unexpected end.");

    private char Next() => _pos < _text.Length ? _text[_pos++] : throw new FormatException("Unexpected end.");

    private void SkipWhitespace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
        {
            _pos++;
        }
    }
}
