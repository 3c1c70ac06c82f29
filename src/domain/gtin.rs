//! GTINs (the numbers under retail barcodes). GTIN-8, -12, -13 and -14 are one number space:
//! left-padded with zeros to 14 digits, the same number is the same GTIN, so products are
//! unique and looked up by that 14-digit form, while the form the publisher gave is kept.

/// A GTIN whose length and check digit are valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gtin {
    given: String,
    padded: String,
}

impl Gtin {
    /// The forms a GTIN may take.
    pub const LENGTHS: [usize; 4] = [8, 12, 13, 14];

    pub fn parse(text: &str) -> Result<Self, String> {
        let digits = text.bytes().all(|b| b.is_ascii_digit());
        if !digits || !Self::LENGTHS.contains(&text.len()) {
            return Err(format!("{text:?} is not a GTIN (8, 12, 13 or 14 digits)"));
        }
        let values: Vec<u32> = text.bytes().map(|b| u32::from(b - b'0')).collect();
        let (body, check) = values.split_at(values.len() - 1);
        // GS1: from the right of the body, weights 3, 1, 3, …
        let sum: u32 = body
            .iter()
            .rev()
            .enumerate()
            .map(|(i, d)| if i % 2 == 0 { d * 3 } else { *d })
            .sum();
        let expected = (10 - sum % 10) % 10;
        if expected != check[0] {
            return Err(format!(
                "{text:?} has a wrong GTIN check digit: {} (the digits before it give {expected})",
                check[0]
            ));
        }
        Ok(Self {
            given: text.to_owned(),
            padded: format!("{text:0>14}"),
        })
    }

    /// The 14-digit form: the identity of the GTIN.
    pub fn padded(&self) -> &str {
        &self.padded
    }

    /// The form the publisher gave.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The schema.org property for the given form (`gtin8`, `gtin12`, `gtin13`, `gtin14`).
    pub fn schema_property(&self) -> &'static str {
        match self.given.len() {
            8 => "gtin8",
            12 => "gtin12",
            13 => "gtin13",
            _ => "gtin14",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_forms_of_one_number_are_one_gtin() {
        let forms = [
            "96385074",
            "036000291452",
            "4006381333931",
            "10036000291459",
        ];
        for form in forms {
            assert!(Gtin::parse(form).is_ok(), "{form}");
        }
        let upc = Gtin::parse("036000291452").unwrap();
        let ean = Gtin::parse("0036000291452").unwrap();
        let itf = Gtin::parse("00036000291452").unwrap();
        assert_eq!(upc.padded(), "00036000291452");
        assert_eq!(upc.padded(), ean.padded());
        assert_eq!(ean.padded(), itf.padded());
        assert_eq!(upc.schema_property(), "gtin12");
        assert_eq!(ean.schema_property(), "gtin13");
        assert_eq!(Gtin::parse("96385074").unwrap().padded(), "00000096385074");
    }

    #[test]
    fn a_wrong_check_digit_or_length_is_refused_with_the_reason() {
        let wrong = Gtin::parse("4006381333932").unwrap_err();
        assert!(
            wrong.contains("check digit") && wrong.contains("give 1"),
            "{wrong}"
        );
        for bad in [
            "",
            "1234567",
            "12345678901",
            "400638133393a",
            "+4006381333931",
        ] {
            assert!(
                Gtin::parse(bad).unwrap_err().contains("not a GTIN"),
                "{bad}"
            );
        }
    }
}
