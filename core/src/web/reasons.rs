//! iProov's failure reasons as sentences for the person who just tried: the page shows the
//! sentence and keeps the code (for support). The codes are the SDKs' feedback codes (iProov's
//! Web SDK 5.x README; older ones from its 4.x and the native SDKs), which is what a `reason`
//! carries when it is a code; iProov's REST API documents `reason` as free text ("Please Keep
//! Still"), which is shown as it is when it reads as a sentence.

/// Code -> sentence.
const REASONS: [(&str, &str); 21] = [
    ("eyes_closed", "Keep your eyes open."),
    ("face_too_far", "Move your face closer to the camera."),
    (
        "face_too_close",
        "Move your face a little further from the camera.",
    ),
    ("misaligned_face", "Keep your face inside the oval."),
    ("multiple_faces", "Make sure only your face is in view."),
    ("obscured_face", "Make sure nothing covers your face."),
    ("sunglasses", "Take off your sunglasses."),
    (
        "too_bright",
        "Move away from bright light behind or in front of you.",
    ),
    ("too_dark", "Move somewhere with more light."),
    ("too_much_movement", "Hold still while the check runs."),
    (
        "motion_too_much_movement",
        "Hold still while the check runs.",
    ),
    (
        "motion_too_much_mouth_movement",
        "Keep your mouth still while the check runs.",
    ),
    (
        "lighting_backlit",
        "Move away from bright light behind you.",
    ),
    (
        "lighting_face_too_bright",
        "Move away from light shining on your face.",
    ),
    (
        "lighting_flash_reflection_too_low",
        "Move somewhere darker, so the screen's light reaches your face.",
    ),
    ("lighting_too_dark", "Move somewhere with more light."),
    (
        "user_timeout",
        "The check timed out. Try again when you are ready.",
    ),
    (
        "failure_user_timeout",
        "The check timed out. Try again when you are ready.",
    ),
    (
        "network_problem",
        "The connection dropped during the check. Try again.",
    ),
    (
        "ambiguous_outcome",
        "The check could not decide. Try again.",
    ),
    ("unknown", "The check did not pass. Try again."),
];

/// The sentence for `reason`: the table's for a known code, the reason itself when it is
/// already words (has a space, at most 120 characters, no control character), else the
/// table's `unknown`.
pub fn sentence(reason: &str) -> &str {
    let code = reason.trim().to_ascii_lowercase();
    if let Some((_, text)) = REASONS.iter().find(|(c, _)| *c == code) {
        return text;
    }
    let words = reason.contains(' ')
        && reason.chars().count() <= 120
        && !reason.chars().any(char::is_control);
    if words {
        reason
    } else {
        "The check did not pass. Try again."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_as_sentences_and_free_text_stays() {
        assert_eq!(
            sentence("too_much_movement"),
            "Hold still while the check runs."
        );
        assert_eq!(sentence("EYES_CLOSED"), "Keep your eyes open.");
        assert_eq!(sentence("Please Keep Still"), "Please Keep Still");
        assert_eq!(sentence("x_new_code"), "The check did not pass. Try again.");
        assert_eq!(
            sentence(&"a ".repeat(100)),
            "The check did not pass. Try again."
        );
    }
}
