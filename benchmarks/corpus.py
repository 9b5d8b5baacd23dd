"""A deterministic generated corpus of help-desk interactions for the benchmarks (no real data needed).

It models what a help desk exports, so that caches keyed by a text or a name hit about as often as they
would on real data (rarely), and the measures do the work real data makes them do:

* **Customers**: a first and a last name drawn from lists in English, German, Danish and Indian names
  (Latin script, and Devanagari for about half of the Hindi conversations), usually from the
  conversation's language, sometimes from another; now and then with a title, a middle initial, in lower
  case, or no name at all. Tens of thousands of combinations, so a million interactions meet most of them.
* **Languages**: en, de, da and hi conversations (Hindi partly in Devanagari, partly in English, as Indian
  customers often write), a few tagged fr but written in English.
* **Customer messages**: e-mail-like, an optional salutation, one to three sentences chosen from many
  fragments per language and topic (where is my order, double charge, damaged item, return, refund,
  login, invoice, delivery address), with order numbers, dates, amounts, products and times filled in, so
  texts practically never repeat; an optional sign-off with the customer's name. At realistic rates they
  carry a card number (about 1 % of customer messages, Luhn-valid, grouped as people type them), a phone
  number or an e-mail address (3 % each), an IBAN or a CVV (rare), a health remark (about 1 %), anger,
  shouting or "!!!" (about 5 %), a legal or regulator threat (about 1.5 %), a repeated contact (3 %).
  About a third of the conversations thus carry an escalation trigger.
* **Replies**: a greeting variant (by first name, formally by title and last name, generic, or none), one
  to three sentences of body (an apology, a reference number, a denial on refund topics, an occasional
  self-introduction in chats, a warning never to send card data), a closing that offers help and/or
  thanks (or neither), and the agent's name. Rarely an agent asks for card data or a password.
* **Other events**: autoresponders (some conversations get nothing else), internal notes, status events
  (pending, solved), actions (identity_verified before most refund_issued, refund_denied, credit_issued,
  explanation_given, manager_notified, survey_sent), call events on the phone channel.
* **Records**: channels, priorities and tiers as before; order attributes (amount, purchase date, receipt,
  packaging, condition, category), csat, complaint kind. Each interaction has exactly ``events`` events
  and takes about 2.3 KB of JSON (2.5 KB with non-ASCII characters escaped).

Rates are rough guesses at an ordinary retail help desk, neither tuned for the caches nor to be
pathological. The same ``seed`` gives the same corpus.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from typing import Any

CHANNELS = ["email", "chat", "social", "phone", "web"]
TIERS = ["gold", "silver", "bronze", "guest", None]
LANGUAGES = ["en", "en", "en", "de", "de", "da", "hi", "fr"]
START = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)

# -- names ----------------------------------------------------------------------------------------------------

FIRST_NAMES = {
    "en": "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan "
          "Joseph Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra "
          "Mark Ashley Donald Emily Steven Kimberly Paul Donna Andrew Michelle Joshua Carol Kenneth Amanda Kevin "
          "Melissa Brian Deborah George Stephanie Timothy Rebecca Olivia Liam Noah Emma Ava Ethan Chloe Lucas "
          "Grace Owen",
    "de": "Jana Lukas Anna Leon Lena Finn Marie Jonas Sophie Paul Laura Felix Lea Maximilian Hannah Elias "
          "Johanna Tim Katharina Jan Julia Niklas Sarah Moritz Lisa Tobias Clara Florian Ida Sebastian Greta "
          "Matthias Jürgen Ursula Günter Sabine Wolfgang Petra Dieter Birgit Uwe Monika Klaus Heike Stefan "
          "Andrea Frank Susanne Jörg Käthe Björn Anja Ralf Özlem Mehmet Kai Nele Ole Svenja",
    "da": "Mette Søren Freja Mads Ida Rasmus Sofie Frederik Emma Mikkel Anne Jesper Kirsten Lars Hanne Niels "
          "Lone Jens Pernille Morten Camilla Anders Maja Christian Louise Henrik Signe Martin Birthe Torben "
          "Karen Ole Astrid Bo Gitte Peter Rikke Thomas Line Jakob Marianne Kasper Dorthe Troels Bodil Asger "
          "Lærke Esben Trine Poul Vibeke Steffen Nanna Brian Malene Kåre Else Jørgen Ditte",
    "hi": "Rahul Priya Amit Anjali Rohan Neha Vikram Pooja Arjun Kavya Sanjay Sunita Rajesh Deepa Anil Meera "
          "Suresh Lakshmi Manoj Divya Ravi Shreya Karan Aarti Nikhil Sneha Arvind Geeta Vivek Swati Aditya "
          "Nisha Harish Rekha Ajay Shalini Prakash Radha Gaurav Isha Varun Smita Mohan Asha Sachin Komal "
          "Ramesh Payal Yash Tanvi Kunal Ritu Ishaan Aditi Farhan Zoya Gurpreet Harpreet Imran",
    "deva": "राहुल प्रिया अमित अंजलि रोहन नेहा विक्रम पूजा अर्जुन काव्या संजय सुनीता राजेश दीपा अनिल मीरा "
            "सुरेश लक्ष्मी मनोज दिव्या रवि श्रेया करण आरती निखिल स्नेहा अरविंद गीता विवेक स्वाति आदित्य "
            "निशा हरीश रेखा अजय शालिनी प्रकाश राधा गौरव ईशा",
}
LAST_NAMES = {
    "en": "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Thomas Moore Jackson Martin "
          "Lee Thompson White Harris Clark Lewis Robinson Walker Young Allen King Wright Scott Hill Green Adams "
          "Baker Nelson Carter Mitchell Roberts Turner Phillips Campbell Parker Evans Edwards Collins Stewart "
          "Morris Murphy Cook Rogers O'Brien O'Connor Kelly Hughes Price Bennett Wood Barnes Ross Henderson "
          "Coleman Jenkins",
    "de": "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer "
          "Richter Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt "
          "Werner Schmitz Krause Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber "
          "Kaiser Fuchs Peters Lang Scholz Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank "
          "Berger Winkler Roth Beck Lorenz Novak",
    "da": "Nielsen Jensen Hansen Pedersen Andersen Christensen Larsen Sørensen Rasmussen Jørgensen Petersen "
          "Madsen Kristensen Olsen Thomsen Christiansen Poulsen Johansen Møller Mortensen Knudsen Jakobsen "
          "Mikkelsen Olesen Frederiksen Laursen Henriksen Lund Schmidt Eriksen Holm Kristiansen Clausen Simonsen "
          "Svendsen Andreasen Iversen Jeppesen Mogensen Jacobsen Vestergaard Nissen Lauridsen Kjær Jepsen "
          "Mathiesen Bach Skov Dam Søndergaard Østergaard Bøgh Friis Lind Dahl Krogh Vinther Bang Juhl Brandt",
    "hi": "Sharma Verma Gupta Singh Kumar Patel Reddy Iyer Nair Menon Rao Joshi Mehta Shah Desai Kapoor "
          "Malhotra Chopra Bansal Agarwal Jain Mishra Pandey Tiwari Dubey Yadav Chauhan Thakur Bhatt Kulkarni "
          "Deshpande Pillai Banerjee Chatterjee Mukherjee Das Bose Sen Ghosh Dutta Saxena Srivastava Trivedi "
          "Chaudhary Khan Ahmed Qureshi Siddiqui Gill Sandhu Dhillon Grewal Bhatia Arora Sethi Khanna Anand Goel",
    "deva": "शर्मा वर्मा गुप्ता सिंह कुमार पटेल रेड्डी अय्यर नायर मेनन राव जोशी मेहता शाह देसाई कपूर मल्होत्रा "
            "चोपड़ा बंसल अग्रवाल जैन मिश्रा पांडे तिवारी दुबे यादव चौहान ठाकुर भट्ट कुलकर्णी",
}
FIRST = {k: v.split() for k, v in FIRST_NAMES.items()}
LAST = {k: v.split() for k, v in LAST_NAMES.items()}
TITLES = {"en": ["Mr", "Mrs", "Ms", "Dr."], "de": ["Herr", "Frau", "Dr."], "da": ["Hr.", "Fru"],
          "hi": ["Mr", "Mrs", "Dr."], "deva": ["श्री", "श्रीमती", "डॉ"]}
AGENTS = [(f"a{k}", name) for k, name in enumerate(
    "Sam Alex Maria Jonas Priya Lars Nina Tom Eva Ravi Sofie Ben Lea Mikkel Anita Chris Julia Kasper Deepak "
    "Hannah Omar Ida Felix Kiran Lisa Jens Sara Arun Mona Paul".split())]

# -- fillers ------------------------------------------------------------------------------------------------

PRODUCTS = {
    "en": ["the wireless headphones", "the blue winter jacket (size M)", "the coffee machine", "my new phone case",
           "the standing desk", "two pairs of running shoes", "the kids' bike helmet", "the 55\" TV",
           "the garden hose set", "a gift card", "the vacuum cleaner", "the yoga mat", "the laptop sleeve",
           "the espresso cups", "the smart watch", "the rain boots (size 38)"],
    "de": ["die Kopfhörer", "die Winterjacke in Größe L", "die Kaffeemaschine", "den Staubsauger",
           "das Fahrrad-Schloss", "die Laufschuhe", "den Schreibtischstuhl", "das Smartphone", "die Bettwäsche",
           "den Wasserkocher", "die Gartenschere", "den Gutschein", "die Regenjacke", "das Kinderbuch"],
    "da": ["høretelefonerne", "vinterjakken i str. M", "kaffemaskinen", "støvsugeren", "løbeskoene",
           "skrivebordsstolen", "telefonen", "sengetøjet", "elkedlen", "gavekortet", "regnjakken", "cyklen"],
    "hi": ["हेडफ़ोन", "जैकेट", "कॉफ़ी मशीन", "मोबाइल कवर", "जूते", "घड़ी", "मिक्सर", "प्रेशर कुकर", "लैपटॉप बैग",
           "साड़ी", "कुर्ता", "गिफ्ट कार्ड"],
}
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]


def _order(rng: random.Random) -> str:
    n = rng.randrange(1_000_000, 99_999_999)
    return rng.choice([f"#{n}", f"{n}", f"A{n}", f"{n // 10000}-{n % 10000:04d}", f"ORD-{n}"])


def _date(rng: random.Random, lang: str) -> str:
    day, month = rng.randrange(1, 29), rng.randrange(1, 13)
    if lang == "de":
        return rng.choice([f"{day:02d}.{month:02d}.2026", f"{day}. {MONTHS_DE[month - 1]}", f"{day:02d}.{month:02d}."])
    if lang == "da":
        return rng.choice([f"{day}/{month}", f"{day}.{month}.2026", f"{day}. {MONTHS_DE[month - 1].lower()[:3]}"])
    return rng.choice([f"{MONTHS_EN[month - 1]} {day}", f"{day}/{month}/2026", f"2026-{month:02d}-{day:02d}",
                       f"{day} {MONTHS_EN[month - 1][:3]}"])


def _amount(rng: random.Random, lang: str) -> str:
    units, cents = rng.randrange(3, 2500), rng.randrange(0, 100)
    if lang == "de":
        return rng.choice([f"{units},{cents:02d} €", f"{units} Euro", f"€{units},{cents:02d}"])
    if lang == "da":
        return rng.choice([f"{units * 7},{cents:02d} kr.", f"{units * 7} kr", f"DKK {units * 7}"])
    if lang == "hi":
        return rng.choice([f"₹{units * 90:,}", f"Rs. {units * 90}", f"{units * 90} रुपये"])
    return rng.choice([f"${units}.{cents:02d}", f"£{units}", f"€{units}.{cents:02d}", f"{units} dollars"])


def _time(rng: random.Random) -> str:
    return f"{rng.randrange(7, 22)}:{rng.choice(['00', '15', '30', '45', '05', '50'])}"


# -- customer sentences, by language and topic ------------------------------------------------------------------
# Slots: {order} {date} {amount} {product} {days} {time}

CUSTOMER = {
    "en": {
        "where": ["I ordered {product} on {date} (order {order}) and it still hasn't arrived.",
                  "Where is my order {order}? The tracking page hasn't changed since {date}.",
                  "The parcel for order {order} was supposed to arrive {days} days ago.",
                  "Can you tell me when {product} will be delivered?",
                  "The courier says delivered at {time} but there is nothing at my door."],
        "charge": ["I was charged twice for order {order}, {amount} each time.",
                   "My bank statement shows {amount} from you on {date} that I don't recognise.",
                   "Why did you take {amount} when the order total was lower?",
                   "The discount code was not applied to order {order}."],
        "damaged": ["{product} arrived broken, the box was crushed.",
                    "Unfortunately {product} stopped working after {days} days.",
                    "One item was missing from order {order}.",
                    "I received the wrong size, I ordered {product}."],
        "refund": ["I would like a refund for {product}, {amount}.",
                   "I returned {product} on {date} and I'm still waiting for my refund.",
                   "How do I return order {order}? It doesn't fit.",
                   "Please cancel order {order} and refund the {amount}."],
        "account": ["I can't log in to my account since {date}.",
                    "The password reset e-mail never arrives.",
                    "Please change the delivery address on order {order}.",
                    "I need an invoice for order {order} for my company."],
    },
    "de": {
        "where": ["Ich habe am {date} {product} bestellt (Bestellnummer {order}) und noch nichts erhalten.",
                  "Wo bleibt meine Bestellung {order}? Die Sendungsverfolgung zeigt seit {date} nichts Neues.",
                  "Das Paket sollte vor {days} Tagen ankommen.",
                  "Laut DHL wurde um {time} zugestellt, aber hier ist nichts angekommen."],
        "charge": ["Mir wurden für Bestellung {order} zweimal {amount} abgebucht.",
                   "Auf meinem Kontoauszug vom {date} steht eine Abbuchung über {amount}.",
                   "Der Gutscheincode wurde bei Bestellung {order} nicht berücksichtigt."],
        "damaged": ["{product} kam beschädigt an, der Karton war eingedrückt.",
                    "Leider funktioniert {product} nach {days} Tagen nicht mehr.",
                    "In der Lieferung {order} fehlt ein Artikel."],
        "refund": ["Ich möchte {product} zurückgeben und den Betrag von {amount} erstattet bekommen.",
                   "Ich habe die Ware am {date} zurückgeschickt und warte noch auf die Erstattung.",
                   "Bitte stornieren Sie Bestellung {order}."],
        "account": ["Ich kann mich seit {date} nicht mehr in mein Kundenkonto einloggen.",
                    "Bitte ändern Sie die Lieferadresse für Bestellung {order}.",
                    "Ich brauche eine Rechnung für Bestellung {order}."],
    },
    "da": {
        "where": ["Jeg bestilte {product} d. {date} (ordre {order}), men har ikke modtaget noget.",
                  "Hvor er min ordre {order}? Sporingen har ikke ændret sig siden {date}.",
                  "Pakken skulle være kommet for {days} dage siden.",
                  "PostNord skriver leveret kl. {time}, men der er ingen pakke."],
        "charge": ["Jeg er blevet trukket {amount} to gange for ordre {order}.",
                   "Der står en betaling på {amount} fra jer d. {date}, som jeg ikke kender.",
                   "Rabatkoden blev ikke brugt på ordre {order}."],
        "damaged": ["{product} kom i stykker frem.",
                    "Desværre virker {product} ikke længere efter {days} dage.",
                    "Der manglede en vare i ordre {order}."],
        "refund": ["Jeg vil gerne returnere {product} og have {amount} tilbage.",
                   "Jeg sendte varen retur d. {date} og venter stadig på pengene.",
                   "Vil I annullere ordre {order}?"],
        "account": ["Jeg kan ikke logge ind på min konto siden {date}.",
                    "Vil I ændre leveringsadressen på ordre {order}?",
                    "Jeg skal bruge en faktura på ordre {order}."],
    },
    "hi": {
        "where": ["मैंने {date} को {product} ऑर्डर किया था (ऑर्डर {order}) लेकिन अभी तक नहीं मिला।",
                  "मेरा ऑर्डर {order} कहाँ है? {date} से ट्रैकिंग अपडेट नहीं हुई।",
                  "पार्सल {days} दिन पहले आना था।"],
        "charge": ["ऑर्डर {order} के लिए मुझसे दो बार {amount} काटे गए।",
                   "मेरे खाते से {date} को {amount} कट गए हैं।"],
        "damaged": ["{product} टूटा हुआ आया है।", "{days} दिन बाद ही {product} खराब हो गया।",
                    "ऑर्डर {order} में एक सामान कम है।"],
        "refund": ["मुझे {product} का रिफंड चाहिए, {amount}।", "मैंने {date} को सामान वापस भेजा था, रिफंड अभी तक नहीं आया।",
                   "कृपया ऑर्डर {order} कैंसिल कर दें।"],
        "account": ["मैं {date} से अपने अकाउंट में लॉगिन नहीं कर पा रहा हूँ।", "कृपया ऑर्डर {order} का पता बदल दें।",
                    "मुझे ऑर्डर {order} का बिल चाहिए।"],
    },
}
TOPICS = ["where", "charge", "damaged", "refund", "account"]

CUSTOMER_OPENINGS = {
    "en": ["Hi,", "Hello,", "Hi there,", "Dear support team,", "Good morning,", "Hey,"],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "Moin,", "Hallo zusammen,"],
    "da": ["Hej,", "Hej med jer,", "Goddag,", "Kære kundeservice,"],
    "hi": ["नमस्ते,", "नमस्कार,", "प्रिय टीम,", "हेलो,"],
}
CUSTOMER_FOLLOW_UPS = {
    "en": ["Any update on this?", "I still haven't heard back.", "Thanks, I'll wait then.", "Ok, thank you.",
           "I sent the photos yesterday.", "It is still not resolved.", "Can you please check again?"],
    "de": ["Gibt es schon Neuigkeiten?", "Ich habe noch keine Antwort bekommen.", "Danke, dann warte ich.",
           "Die Fotos habe ich gestern geschickt.", "Das Problem besteht weiterhin."],
    "da": ["Er der nyt?", "Jeg har stadig ikke hørt noget.", "Tak, så venter jeg.", "Jeg sendte billederne i går."],
    "hi": ["कोई अपडेट?", "अभी तक जवाब नहीं आया।", "ठीक है, धन्यवाद।", "मैंने कल फोटो भेजी थी।"],
}
CUSTOMER_SIGN_OFFS = {
    "en": ["Thanks,\n{first}", "Best regards,\n{name}", "Cheers, {first}", "Kind regards\n{name}", "{first}"],
    "de": ["Viele Grüße\n{name}", "Mit freundlichen Grüßen\n{name}", "Danke und Gruß, {first}", "LG {first}"],
    "da": ["Mvh\n{name}", "Venlig hilsen\n{name}", "Hilsen {first}", "Tak på forhånd, {first}"],
    "hi": ["धन्यवाद,\n{name}", "{name}", "शुक्रिया, {first}"],
}
# What the charter's lexicons detect (servicerules/measures/lexicons.py), each at some rate below.
ANGER = {
    "en": ["This is unacceptable.", "I am really fed up with this.", "Worst customer service ever.",
           "Honestly this is ridiculous.", "I'm furious about how this was handled.", "What a rip off."],
    "de": ["Das ist eine Frechheit.", "Ich bin wirklich verärgert.", "Das ist eine Zumutung!",
           "Unverschämt, wie das hier läuft."],
    "da": ["Jeg er meget utilfreds.", "Det er helt uacceptabelt.", "Jeg er træt af at vente."],
    "hi": ["यह बहुत बुरा है।", "मैं बहुत नाराज़ हूँ।", "बकवास सेवा है।"],
}
SHOUTING = ["THIS IS NOT OKAY", "WHERE IS MY MONEY", "I WANT MY REFUND NOW", "DAS IST UNMÖGLICH", "HELT UTROLIGT"]
LEGAL = {
    "en": ["If this is not fixed I will talk to my lawyer.", "I'm considering legal action.",
           "Otherwise I'll see you in small claims court."],
    "de": ["Sonst schalte ich meinen Anwalt ein.", "Ich behalte mir rechtliche Schritte vor."],
    "da": ["Ellers kontakter jeg en advokat.", "Jeg overvejer at gå i retten med det."],
    "hi": ["वरना मैं वकील से बात करूँगा।", "मैं अदालत जाऊँगा।"],
}
REGULATOR = {
    "en": ["I will report this to trading standards.", "I am filing a complaint with the ombudsman."],
    "de": ["Ich wende mich an die Verbraucherzentrale."],
    "da": ["Jeg klager til Forbrugerklagenævnet."],
    "hi": ["मैं उपभोक्ता फोरम में शिकायत करूँगा।"],
}
REPEATED = {
    "en": ["This is the third time I'm writing about this.", "I already called twice last week.",
           "I have contacted you several times now.", "As I already explained in my previous ticket,"],
    "de": ["Ich schreibe jetzt schon zum dritten Mal.", "Ich habe bereits angerufen.", "Schon wieder keine Antwort."],
    "da": ["Det er tredje gang jeg skriver.", "Jeg har allerede ringet to gange.", "Jeg skriver igen fordi"],
    "hi": ["मैं तीसरी बार लिख रहा हूँ।", "मैंने पहले भी कॉल किया था।"],
}
HEALTH = {
    "en": ["Sorry for the late reply, I was in hospital after surgery.", "I need it for my diabetes medication."],
    "de": ["Ich war leider krankgeschrieben.", "Es geht um ein Rezept für meine Medikamente."],
    "da": ["Jeg har været syg i en uge.", "Det er til min medicin."],
    "hi": ["मैं बीमार था इसलिए देर हो गई।", "यह मेरी दवा के लिए है।"],
}
PHONE_NUMBERS = [lambda r: f"+49 171 {r.randrange(1000000, 9999999)}", lambda r: f"+45 {r.randrange(20, 99)} "
                 f"{r.randrange(10, 99)} {r.randrange(10, 99)} {r.randrange(10, 99)}",
                 lambda r: f"+91 {r.randrange(70000, 99999)} {r.randrange(10000, 99999)}",
                 lambda r: f"({r.randrange(200, 999)}) {r.randrange(200, 999)}-{r.randrange(1000, 9999)}",
                 lambda r: f"0{r.randrange(151, 179)} {r.randrange(1000000, 9999999)}"]
PHONE_LEAD = {"en": "You can call me on {phone}.", "de": "Meine Telefonnummer: {phone}",
              "da": "Ring gerne på {phone}.", "hi": "मेरा फोन नंबर {phone} है।"}
EMAIL_LEAD = {"en": "Please reply to {email} instead.", "de": "Bitte antworten Sie an {email}.",
              "da": "Skriv venligst til {email}.", "hi": "कृपया {email} पर जवाब दें।"}
CARD_LEAD = {"en": ["My card is {card}, please check.", "Card number {card} exp {exp}",
                    "the payment was from card {card}"],
             "de": ["Meine Kreditkarte: {card}", "Karte {card}, gültig bis {exp}"],
             "da": ["Mit kort er {card}.", "Kortnummer {card}"],
             "hi": ["मेरा कार्ड नंबर {card} है।"]}
IBAN_LEAD = {"en": "Please refund to my account {iban}.", "de": "Bitte überweisen Sie den Betrag auf {iban}.",
             "da": "I kan overføre til {iban}.", "hi": "कृपया {iban} में पैसे भेजें।"}

# -- agent sentences ---------------------------------------------------------------------------------------

GREETINGS = {
    "first": {"en": ["Hi {first},", "Hello {first},", "Dear {first},", "Hi {first}!", "Good morning {first},"],
              "de": ["Hallo {first},", "Liebe/r {first},", "Guten Tag {first},"],
              "da": ["Hej {first},", "Kære {first},", "Hej {first}!"],
              "hi": ["नमस्ते {first} जी,", "प्रिय {first},", "Hello {first},"]},
    "formal": {"en": ["Dear {title} {last},", "Hello {title} {last},"],
               "de": ["Sehr geehrte/r {title} {last},", "Guten Tag {title} {last},"],
               "da": ["Kære {first} {last},", "Goddag {first} {last},"],
               "hi": ["प्रिय {title} {last},", "नमस्कार {title} {last} जी,"]},
    "generic": {"en": ["Hello,", "Hi there,", "Thanks for reaching out!", "Good afternoon,"],
                "de": ["Hallo,", "Guten Tag,", "Vielen Dank für Ihre Nachricht."],
                "da": ["Hej,", "Goddag,", "Tak for din henvendelse."],
                "hi": ["नमस्ते,", "नमस्कार,"]},
}
AGENT_BODY = {
    "en": ["I have checked order {order} and it left our warehouse on {date}.",
           "The parcel is with the courier and should arrive within {days} working days.",
           "I have forwarded this to our billing team.", "I can see the double payment of {amount}.",
           "The refund of {amount} will reach your account within 5-7 business days.",
           "Could you send us a photo of the damage?", "I've sent you a return label by e-mail.",
           "I have updated the address on your order.", "Your invoice is attached to this message.",
           "I've reset the login for your account, please try again.",
           "A replacement is on its way, tracking follows separately."],
    "de": ["Ich habe die Bestellung {order} geprüft, sie wurde am {date} verschickt.",
           "Das Paket ist beim Versanddienstleister und sollte in {days} Werktagen ankommen.",
           "Ich habe das an unsere Buchhaltung weitergegeben.", "Die Erstattung über {amount} ist veranlasst.",
           "Könnten Sie uns ein Foto des Schadens schicken?", "Das Retourenlabel haben wir Ihnen per E-Mail geschickt.",
           "Die Lieferadresse ist aktualisiert.", "Die Rechnung finden Sie im Anhang."],
    "da": ["Jeg har tjekket ordre {order}, den blev sendt d. {date}.",
           "Pakken er hos fragtfirmaet og bør være fremme inden for {days} hverdage.",
           "Jeg har sendt det videre til vores bogholderi.", "Refusionen på {amount} er sat i gang.",
           "Vil du sende os et billede af skaden?", "Returlabel er sendt til dig på mail.",
           "Leveringsadressen er opdateret.", "Fakturaen er vedhæftet."],
    "hi": ["मैंने ऑर्डर {order} चेक किया है, यह {date} को भेजा गया था।", "पार्सल {days} दिनों में पहुँच जाएगा।",
           "मैंने यह हमारी बिलिंग टीम को भेज दिया है।", "{amount} का रिफंड शुरू कर दिया गया है।",
           "कृपया नुकसान की फोटो भेजें।", "पता अपडेट कर दिया गया है।"],
}
APOLOGY = {"en": ["Sorry for the inconvenience.", "We apologise for the delay.", "I'm sorry to hear that."],
           "de": ["Entschuldigen Sie bitte die Unannehmlichkeiten.", "Das tut mir leid."],
           "da": ["Undskyld ventetiden.", "Det beklager jeg meget."],
           "hi": ["असुविधा के लिए क्षमा करें।", "हमें खेद है।"]}
DENIAL = {"en": ["Unfortunately the item is outside the return window.", "I'm afraid this order is not eligible for a refund.",
                 "Gift cards cannot be refunded."],
          "de": ["Leider liegt die Bestellung außerhalb der Rückgabefrist.", "Eine Erstattung ist leider nicht möglich."],
          "da": ["Desværre er det ikke muligt at refundere ordren.", "Varen er uden for returfristen."],
          "hi": ["खेद है, यह रिफंड संभव नहीं है।"]}
REFERENCE = {"en": ["Your case number is {ref}.", "Reference: {ref}", "Ticket #{ref} has been created."],
             "de": ["Ihre Vorgangsnummer lautet {ref}.", "Referenz: {ref}"],
             "da": ["Dit sagsnummer er {ref}.", "Sagsnr. {ref}"],
             "hi": ["आपकी संदर्भ संख्या {ref} है।"]}
INTRODUCTION = {"en": ["My name is {agent} and I'll help you today.", "I'm {agent} from the support team."],
                "de": ["Mein Name ist {agent}.", "Ich bin {agent} vom Kundenservice."],
                "da": ["Jeg hedder {agent}.", "Mit navn er {agent}."],
                "hi": ["मेरा नाम {agent} है।"]}
CARD_WARNING = {"en": "For your security, please never send us your card number by e-mail.",
                "de": "Bitte senden Sie uns niemals Ihre Kartennummer per E-Mail.",
                "da": "Send aldrig dit kortnummer til os på mail.",
                "hi": "कृपया अपना कार्ड नंबर कभी न भेजें।"}
AGENT_CARD_REQUEST = {"en": "Could you please send us your card number so I can find the payment?",
                      "de": "Können Sie mir Ihre Kartennummer schicken?", "da": "Vil du sende dit kortnummer?",
                      "hi": "कृपया अपना कार्ड नंबर भेजें।"}
AGENT_PASSWORD_REQUEST = {"en": "What is your password, so I can check the login?",
                          "de": "Wie lautet Ihr Passwort?", "da": "Hvad er din adgangskode?",
                          "hi": "आपका पासवर्ड क्या है?"}
CLOSINGS = {"help": {"en": ["Is there anything else I can help with?", "Let us know if you have further questions.",
                            "Happy to help if anything else comes up."],
                     "de": ["Haben Sie noch Fragen?", "Melden Sie sich gerne, wenn Sie weitere Fragen haben."],
                     "da": ["Skriv endelig, hvis du har andre spørgsmål.", "Kan jeg hjælpe med andet?"],
                     "hi": ["कोई और प्रश्न हो तो बताइए।", "और कोई सहायता चाहिए तो लिखें।"]},
            "thanks": {"en": ["Thank you for your patience.", "Thanks for shopping with us.", "Many thanks!"],
                       "de": ["Vielen Dank für Ihre Geduld.", "Danke für Ihren Einkauf."],
                       "da": ["Tak for din tålmodighed.", "Mange tak."],
                       "hi": ["धन्यवाद।", "आपके धैर्य के लिए धन्यवाद।"]},
            "day": {"en": ["Have a great day.", "Have a nice weekend."], "de": ["Einen schönen Tag noch."],
                    "da": ["Hav en god dag."], "hi": ["आपका दिन शुभ हो।"]}}
AGENT_SIGN_OFFS = {"en": ["Best regards,\n{agent}", "Kind regards, {agent}", "{agent}\nCustomer Service", "– {agent}"],
                   "de": ["Viele Grüße\n{agent}", "Mit freundlichen Grüßen\n{agent}\nKundenservice"],
                   "da": ["Venlig hilsen\n{agent}", "Mvh {agent}"],
                   "hi": ["सादर,\n{agent}", "{agent}\nग्राहक सेवा"]}
AUTORESPONDER = {"en": "Thank you for contacting us. We have received your request (ref. {ref}) and will get back "
                       "to you within 24 hours. This is an automated message.",
                 "de": "Vielen Dank für Ihre Nachricht. Wir haben Ihre Anfrage (Referenz {ref}) erhalten und melden "
                       "uns innerhalb von 24 Stunden. Dies ist eine automatische Antwort.",
                 "da": "Tak for din henvendelse. Vi har modtaget din sag ({ref}) og svarer inden for 24 timer. "
                       "Dette er en automatisk besked.",
                 "hi": "हमसे संपर्क करने के लिए धन्यवाद। आपका अनुरोध ({ref}) मिल गया है, हम 24 घंटे में जवाब देंगे।"}
NOTES = ["Checked in ERP: order {order} shipped {date}.", "Customer called, promised callback.",
         "Refund approved by team lead, {amount}.", "Carrier claim opened for {order}.",
         "Kunde telefonisch informiert.", "Sendt til lager for tjek af {order}.", "Duplicate of ticket {ref}."]


def _luhn_complete(digits: str) -> str:
    total = 0
    for k, char in enumerate(reversed(digits)):
        d = int(char)
        if k % 2 == 0:  # doubled once the check digit is appended
            d = d * 2 - 9 if d >= 5 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


def _card(rng: random.Random) -> str:
    head = rng.choice(["4", "51", "52", "55", "4571", "37"])
    length = 15 if head == "37" else 16
    number = _luhn_complete(head + "".join(rng.choice("0123456789") for _ in range(length - len(head) - 1)))
    style = rng.random()
    if style < 0.55:
        return " ".join(number[k:k + 4] for k in range(0, len(number), 4))
    if style < 0.75:
        return "-".join(number[k:k + 4] for k in range(0, len(number), 4))
    return number


def _iban(rng: random.Random) -> str:
    country, length = rng.choice([("DE", 22), ("DK", 18), ("GB", 22)])
    bban = ("NWBK" if country == "GB" else "") + "".join(rng.choice("0123456789") for _ in range(length - 4 - (4 if country == "GB" else 0)))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(iban[k:k + 4] for k in range(0, len(iban), 4))


def _joined(parts: list[str]) -> str:
    return " ".join(parts).replace("\n ", "\n").replace(" \n", "\n").strip()


class _Writer:
    """Fills the templates of one interaction (its language, customer and agent)."""

    def __init__(self, rng: random.Random, lang: str, script: str, name: dict[str, str], agent: str):
        self.rng, self.lang, self.script, self.name, self.agent = rng, lang, script, name, agent

    def fill(self, template: str) -> str:
        rng, lang = self.rng, self.lang
        values: dict[str, Callable[[], str]] = {
            "order": lambda: _order(rng), "date": lambda: _date(rng, lang), "amount": lambda: _amount(rng, lang),
            "product": lambda: rng.choice(PRODUCTS[lang]), "days": lambda: str(rng.randrange(2, 15)),
            "time": lambda: _time(rng), "ref": lambda: str(rng.randrange(100000, 9999999)),
            "agent": lambda: self.agent, "first": lambda: self.name["first"], "last": lambda: self.name["last"],
            "name": lambda: self.name["full"], "title": lambda: self.name["title"],
        }
        out = template
        for key, make in values.items():
            slot = "{" + key + "}"
            while slot in out:
                out = out.replace(slot, make(), 1)
        return out

    def pick(self, table: dict[str, list[str]] | dict[str, str]) -> str:
        entry = table[self.lang]
        return self.fill(entry if isinstance(entry, str) else self.rng.choice(entry))

    def customer_message(self, topic: str, first: bool) -> str:
        rng, lang = self.rng, self.lang
        parts: list[str] = []
        if first and rng.random() < 0.5:
            parts.append(self.pick(CUSTOMER_OPENINGS) + "\n")
        if not first and rng.random() < 0.5:
            parts.append(self.pick(CUSTOMER_FOLLOW_UPS))
        if rng.random() < 0.03:
            parts.append(self.pick(REPEATED))
        sentences = rng.choice((1, 1, 2, 2, 3)) if first else rng.randrange(0, 2)
        topics = [topic] * sentences
        if sentences > 1 and rng.random() < 0.3:
            topics[-1] = rng.choice(TOPICS)
        for t in topics:
            sentence = self.fill(rng.choice(CUSTOMER[lang][t]))
            parts.append(sentence[:1].upper() + sentence[1:])
        if not parts or parts[-1].endswith("\n"):
            parts.append(self.pick(CUSTOMER_FOLLOW_UPS))
        roll = rng.random()
        if roll < 0.03:
            parts.append(self.pick(ANGER))
        elif roll < 0.037:
            parts.append(rng.choice(SHOUTING) + rng.choice(["!", "!!!", "."]))
        elif roll < 0.047:
            parts[-1] = parts[-1].rstrip(".") + "!!!"
        if rng.random() < 0.01:
            parts.append(self.pick(LEGAL))
        if rng.random() < 0.005:
            parts.append(self.pick(REGULATOR))
        if rng.random() < 0.01:
            parts.append(self.pick(HEALTH))
        roll = rng.random()
        if roll < 0.01:
            exp = f"{rng.randrange(1, 13):02d}/{rng.randrange(26, 31)}"
            parts.append(self.fill(rng.choice(CARD_LEAD[lang])).replace("{card}", _card(rng)).replace("{exp}", exp))
            if rng.random() < 0.2:
                parts.append(f"CVV {rng.randrange(100, 999)}")
        elif roll < 0.04:
            parts.append(PHONE_LEAD[lang].replace("{phone}", rng.choice(PHONE_NUMBERS)(rng)))
        elif roll < 0.07:
            parts.append(EMAIL_LEAD[lang].replace("{email}", self._email()))
        elif roll < 0.073:
            parts.append(IBAN_LEAD[lang].replace("{iban}", _iban(rng)))
        if self.name["full"] and rng.random() < 0.3:
            parts.append("\n" + self.pick(CUSTOMER_SIGN_OFFS))
        return _joined(parts)

    def _email(self) -> str:
        rng = self.rng
        first = self.name["ascii_first"] or f"user{rng.randrange(100, 9999)}"
        last = self.name["ascii_last"] or str(rng.randrange(10, 99))
        local = rng.choice([f"{first}.{last}", f"{first}{rng.randrange(1, 99)}", f"{first[0]}{last}"]).lower()
        return f"{local}@{rng.choice(['gmail.com', 'web.de', 'outlook.com', 'hotmail.dk', 'yahoo.co.in', 'gmx.net'])}"

    def agent_reply(self, first: bool, topic: str, channel: str, deny: bool) -> str:
        rng = self.rng
        parts: list[str] = []
        roll = rng.random()
        if self.name["full"] and roll < 0.55:
            parts.append(self.pick(GREETINGS["first"]))
        elif self.name["full"] and roll < 0.7:
            parts.append(self.pick(GREETINGS["formal"]))
        elif roll < 0.9:
            parts.append(self.pick(GREETINGS["generic"]))
        if first and channel == "chat" and rng.random() < 0.6:
            parts.append(self.pick(INTRODUCTION))
        if rng.random() < 0.3:
            parts.append(self.pick(APOLOGY))
        if first and rng.random() < 0.5:
            parts.append(self.pick(REFERENCE))
        for _ in range(rng.choice((1, 1, 1, 2))):
            parts.append(self.fill(rng.choice(AGENT_BODY[self.lang])))
        if deny:
            parts.append(self.pick(DENIAL))
        roll = rng.random()
        if roll < 0.003:
            parts.append(AGENT_CARD_REQUEST[self.lang])
        elif roll < 0.005:
            parts.append(AGENT_PASSWORD_REQUEST[self.lang])
        elif roll < 0.025:
            parts.append(CARD_WARNING[self.lang])
        if rng.random() < 0.5:
            parts.append(self.pick(CLOSINGS["help"]))
        if rng.random() < 0.45:
            parts.append(self.pick(CLOSINGS["thanks"]))
        if rng.random() < 0.15:
            parts.append(self.pick(CLOSINGS["day"]))
        if rng.random() < 0.3:
            parts.append("\n" + self.pick(AGENT_SIGN_OFFS))
        return _joined(parts)


def _customer_name(rng: random.Random, lang: str) -> tuple[dict[str, str], str]:
    """The customer's name parts, and the script the conversation is written in."""
    group = lang if lang in FIRST else "en"
    script = "latin"
    if lang == "hi" and rng.random() < 0.5:
        group, script = "deva", "deva"
    elif rng.random() < 0.2:
        group = rng.choice(["en", "de", "da", "hi"])
    first, last = rng.choice(FIRST[group]), rng.choice(LAST[group])
    title = rng.choice(TITLES[group])
    roll = rng.random()
    if roll < 0.03:
        full = ""
    elif roll < 0.08:
        full = f"{title} {first} {last}"
    elif roll < 0.11:
        full = f"{first} {rng.choice('ABCDEFGHJKLMNPRSTW')}. {last}"
    elif roll < 0.13:
        full = f"{first} {last}".lower()
    else:
        full = f"{first} {last}"
    ascii_first = first.lower() if first.isascii() else ""
    ascii_last = last.lower().replace("'", "") if last.isascii() else ""
    return ({"first": first, "last": last, "full": full, "title": title,
             "ascii_first": ascii_first, "ascii_last": ascii_last}, script)


def interaction(i: int, rng: random.Random, events: int = 10) -> dict[str, Any]:
    created = START + dt.timedelta(minutes=rng.randrange(0, 60 * 24 * 7))
    channel = rng.choice(CHANNELS)
    language = rng.choice(LANGUAGES)
    name, script = _customer_name(rng, language)
    # Hindi conversations: Devanagari customers write in Hindi, the others mostly in English.
    text_lang = "hi" if script == "deva" else ("hi" if language == "hi" and rng.random() < 0.3 else language)
    text_lang = text_lang if text_lang in CUSTOMER else "en"
    agent_id, agent_name = rng.choice(AGENTS)
    writer = _Writer(rng, text_lang, script, name, agent_name)
    topic = rng.choice(TOPICS)
    complaint = rng.random() < 0.15
    refund_flow = topic in ("refund", "damaged", "charge") and rng.random() < 0.4
    denied = refund_flow and rng.random() < 0.2
    solved = rng.random() < 0.7
    autoresponder = channel in ("email", "web", "social") and rng.random() < 0.15
    autoresponder_only = autoresponder and rng.random() < 0.1

    # The plan: the opening, alternating messages in the middle, the outcome at the end; exactly `events`.
    head: list[tuple[str, Any]] = []
    if channel == "phone":
        head.append(("call.queued", None))
        head.append(("call.answered" if rng.random() < 0.9 else "call.abandoned", None))
    head.append(("customer", True))
    if autoresponder:
        head.append(("autoresponder", None))
    tail: list[tuple[str, Any]] = []
    if refund_flow and not autoresponder_only:
        if not denied and rng.random() < 0.85:
            tail.append(("action", "identity_verified"))
        tail.append(("action", "refund_denied" if denied else "refund_issued"))
    elif complaint and rng.random() < 0.6:
        tail.append(("action", rng.choice(["credit_issued", "explanation_given", "replacement_sent"])))
    if solved:
        tail.append(("status", "solved"))
        if channel != "phone" and rng.random() < 0.5:
            tail.append(("action", "survey_sent"))
    middle_count = max(0, events - len(head) - len(tail))
    middle: list[tuple[str, Any]] = []
    agent_turn = not autoresponder_only
    for k in range(middle_count):
        roll = rng.random()
        if k > 0 and roll < 0.06:
            middle.append(("note", None))
        elif k > 0 and roll < 0.1:
            middle.append(("status", "pending"))
        elif k > 0 and roll < 0.12:
            middle.append(("action", "manager_notified"))
        else:
            middle.append(("agent", None) if agent_turn else ("customer", False))
            agent_turn = not agent_turn and not autoresponder_only
    plan = (head + middle + tail)[:events]

    at = created
    evs: list[dict[str, Any]] = []
    replied = False
    for kind, arg in plan:
        at += dt.timedelta(minutes=rng.randrange(1, 240) if kind in ("agent", "customer") else rng.randrange(0, 30))
        event: dict[str, Any] = {"at": at.isoformat()}
        agent = {"role": "agent", "id": agent_id, "name": agent_name}
        if kind == "customer":
            event.update(type="message", author={"role": "customer"}, text=writer.customer_message(topic, arg))
        elif kind == "agent":
            deny = denied and replied and rng.random() < 0.5
            event.update(type="message", author=agent, automated=False,
                         text=writer.agent_reply(not replied, topic, channel, deny))
            replied = True
        elif kind == "autoresponder":
            event.update(type="message", author={"role": "bot", "id": "autoresponder"}, automated="autoresponder",
                         text=writer.pick(AUTORESPONDER))
        elif kind == "note":
            event.update(type="note", author=agent, public=False, text=writer.fill(rng.choice(NOTES)))
        elif kind == "status":
            event.update(type="status", status=arg, author={"role": "agent", "id": agent_id})
        elif kind == "action":
            event.update(type="action", action=arg, author={"role": "agent", "id": agent_id})
            if arg == "refund_issued":
                event["attributes"] = {"amount": rng.randrange(5, 900)}
        else:
            event.update(type=kind)
        evs.append(event)
    purchase = created - dt.timedelta(days=rng.randrange(1, 200))
    attributes: dict[str, Any] = {
        "order": {"amount": rng.randrange(5, 3000), "purchase_date": purchase.date().isoformat(), "receipt": rng.random() < 0.8,
                  "packaging": rng.random() < 0.6, "condition": rng.choice(["new", "unopened", "used", "defective"]),
                  "category": rng.choice(["electronics", "apparel", "home", "gift_card", "toys"])},
        "csat": rng.randrange(1, 6),
    }
    if complaint:
        attributes["kind"] = "complaint"
    if rng.random() < 0.1:
        attributes["previous_contacts"] = rng.randrange(0, 4)
    return {
        "id": f"B-{i}",
        "channel": channel,
        "priority": rng.choice(["low", "normal", "normal", "high", "urgent"]),
        "language": language,
        "team": rng.choice(["billing", "returns", "tech", "unassigned"]),
        "created_at": created.isoformat(),
        "solved_at": at.isoformat() if solved else None,
        "customer": {"id": f"c{rng.randrange(10_000_000)}", "name": name["full"] or None, "tier": rng.choice(TIERS)},
        "events": evs,
        "attributes": attributes,
    }


def corpus(n: int, seed: int = 7, events: int = 10) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        yield interaction(i, rng, events)
